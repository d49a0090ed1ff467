package dev.flotilla.kv.api.v3;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import dev.flotilla.kv.mvcc.ReadView;
import dev.flotilla.kv.server.ApplyOutcome;
import dev.flotilla.kv.server.StoreMember;
import dev.flotilla.kv.v3.V3Error;
import dev.flotilla.kv.v3.V3Kv;
import dev.flotilla.proto.etcd.etcdserverpb.CompactionRequest;
import dev.flotilla.proto.etcd.etcdserverpb.CompactionResponse;
import dev.flotilla.proto.etcd.etcdserverpb.DeleteRangeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.DeleteRangeResponse;
import dev.flotilla.proto.etcd.etcdserverpb.KVGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.PutRequest;
import dev.flotilla.proto.etcd.etcdserverpb.PutResponse;
import dev.flotilla.proto.etcd.etcdserverpb.RangeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.RangeResponse;
import dev.flotilla.proto.etcd.etcdserverpb.RequestOp;
import dev.flotilla.proto.etcd.etcdserverpb.ResponseHeader;
import dev.flotilla.proto.etcd.etcdserverpb.TxnRequest;
import dev.flotilla.proto.etcd.etcdserverpb.TxnResponse;
import dev.flotilla.proto.store.StoreCommand;
import io.grpc.stub.StreamObserver;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Function;

/**
 * etcd's KV service: reads from a store snapshot (after a ReadIndex barrier unless
 * serializable), writes through the log. Request checks follow etcd's v3rpc validation.
 */
final class KvService extends KVGrpc.KVImplBase {
  /** etcd's --max-txn-ops default. */
  static final int MAX_TXN_OPS = 128;

  private final StoreMember member;
  private final long maxRequestBytes;

  KvService(StoreMember member, long maxRequestBytes) {
    this.member = member;
    this.maxRequestBytes = maxRequestBytes;
  }

  @Override
  public void range(RangeRequest r, StreamObserver<RangeResponse> out) {
    if (r.getKey().isEmpty()) {
      out.onError(V3Status.of(V3Status.KEY_NOT_PROVIDED));
      return;
    }
    if (r.getSerializable()) {
      readRange(r, out);
    } else {
      member.log().readBarrier().whenComplete((v, err) -> {
        if (err != null) {
          out.onError(V3Status.internal(err));
        } else {
          readRange(r, out);
        }
      });
    }
  }

  private void readRange(RangeRequest r, StreamObserver<RangeResponse> out) {
    try (ReadView view = member.store().snapshot()) {
      RangeResponse resp = V3Kv.range(view, r, member.store().compactRevision());
      out.onNext(resp.toBuilder().setHeader(header(resp.getHeader())).build());
      out.onCompleted();
    } catch (V3Error e) {
      out.onError(V3Status.of(e));
    }
  }

  @Override
  public void put(PutRequest r, StreamObserver<PutResponse> out) {
    if (r.getKey().isEmpty()) {
      out.onError(V3Status.of(V3Status.KEY_NOT_PROVIDED));
      return;
    }
    if (r.getIgnoreValue() && !r.getValue().isEmpty()) {
      out.onError(V3Status.of(V3Status.VALUE_PROVIDED));
      return;
    }
    if (r.getIgnoreLease() && r.getLease() != 0) {
      out.onError(V3Status.of(V3Status.LEASE_PROVIDED));
      return;
    }
    propose(StoreCommand.newBuilder().setV3Put(r).build(), out,
        m -> ((PutResponse) m).toBuilder().setHeader(header(((PutResponse) m).getHeader())).build());
  }

  @Override
  public void deleteRange(DeleteRangeRequest r, StreamObserver<DeleteRangeResponse> out) {
    if (r.getKey().isEmpty()) {
      out.onError(V3Status.of(V3Status.KEY_NOT_PROVIDED));
      return;
    }
    propose(StoreCommand.newBuilder().setV3DeleteRange(r).build(), out,
        m -> ((DeleteRangeResponse) m).toBuilder().setHeader(header(((DeleteRangeResponse) m).getHeader())).build());
  }

  @Override
  public void txn(TxnRequest r, StreamObserver<TxnResponse> out) {
    String bad = checkTxn(r);
    if (bad != null) {
      out.onError(V3Status.of(V3Error.Code.INVALID_ARGUMENT, bad));
      return;
    }
    propose(StoreCommand.newBuilder().setV3Txn(r).build(), out,
        m -> ((TxnResponse) m).toBuilder().setHeader(header(((TxnResponse) m).getHeader())).build());
  }

  @Override
  public void compact(CompactionRequest r, StreamObserver<CompactionResponse> out) {
    propose(StoreCommand.newBuilder().setV3Compaction(r).build(), out,
        m -> ((CompactionResponse) m).toBuilder().setHeader(header(((CompactionResponse) m).getHeader())).build());
  }

  /** etcd's checkTxnReqs: op count, keys present, no key written twice (puts/deletes). */
  static String checkTxn(TxnRequest r) {
    if (r.getCompareCount() > MAX_TXN_OPS || r.getSuccessCount() > MAX_TXN_OPS
        || r.getFailureCount() > MAX_TXN_OPS) {
      return V3Status.TOO_MANY_OPS;
    }
    for (var c : r.getCompareList()) {
      if (c.getKey().isEmpty()) {
        return V3Status.KEY_NOT_PROVIDED;
      }
    }
    for (var ops : java.util.List.of(r.getSuccessList(), r.getFailureList())) {
      Set<ByteString> puts = new HashSet<>();
      for (RequestOp op : ops) {
        switch (op.getRequestCase()) {
          case REQUEST_PUT -> {
            if (op.getRequestPut().getKey().isEmpty()) {
              return V3Status.KEY_NOT_PROVIDED;
            }
            if (!puts.add(op.getRequestPut().getKey())) {
              return V3Status.DUPLICATE_KEY;
            }
          }
          case REQUEST_RANGE -> {
            if (op.getRequestRange().getKey().isEmpty()) {
              return V3Status.KEY_NOT_PROVIDED;
            }
          }
          case REQUEST_DELETE_RANGE -> {
            if (op.getRequestDeleteRange().getKey().isEmpty()) {
              return V3Status.KEY_NOT_PROVIDED;
            }
          }
          case REQUEST_TXN -> {
            String nested = checkTxn(op.getRequestTxn());
            if (nested != null) {
              return nested;
            }
          }
          default -> {
            return "etcdserver: empty request op in txn";
          }
        }
      }
    }
    return null;
  }

  private <T> void propose(StoreCommand cmd, StreamObserver<T> out, Function<Message, T> answer) {
    byte[] bytes = cmd.toByteArray();
    if (bytes.length > maxRequestBytes) {
      out.onError(V3Status.of(V3Status.TOO_LARGE));
      return;
    }
    member.log().propose(bytes).whenComplete((outcome, err) -> {
      if (err != null) {
        out.onError(V3Status.internal(err));
      } else if (outcome instanceof ApplyOutcome.V3Done d) {
        out.onNext(answer.apply(d.response()));
        out.onCompleted();
      } else if (outcome instanceof ApplyOutcome.V3Failed f) {
        out.onError(V3Status.of(f.error()));
      } else {
        out.onError(V3Status.internal(new IllegalStateException("unexpected outcome " + outcome)));
      }
    });
  }

  ResponseHeader header(ResponseHeader h) {
    return h.toBuilder()
        .setClusterId(member.identity().clusterId())
        .setMemberId(member.identity().memberId())
        .setRaftTerm(member.log().term())
        .build();
  }
}
