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
import java.util.concurrent.atomic.AtomicLong;
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
  /** --quota-backend-bytes; 0 or less: no quota. */
  private volatile long quotaBytes;
  private volatile Runnable raiseNoSpace = () -> { };

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
    try {
      member.machine().auth().checkRange(AuthContext.currentUser(), r.getKey(), r.getRangeEnd());
    } catch (V3Error e) {
      out.onError(V3Status.of(e));
      return;
    }
    read(r.getSerializable(), out, view -> {
      RangeResponse resp = V3Kv.range(view, r, member.store().compactRevision());
      return resp.toBuilder().setHeader(header(resp.getHeader())).build();
    });
  }

  /** A read of a store snapshot; as a Range or a read-only Txn reads. */
  @FunctionalInterface
  private interface ViewRead<T> {
    T answer(ReadView view) throws V3Error;
  }

  /** Answers {@code read} on a store snapshot, after the ReadIndex barrier unless {@code serializable}. */
  private <T> void read(boolean serializable, StreamObserver<T> out, ViewRead<T> read) {
    if (serializable) {
      readNow(out, read);
      return;
    }
    member.log().readBarrier().whenComplete((v, err) -> {
      if (err != null) {
        out.onError(V3Status.internal(err));
      } else {
        readNow(out, read);
      }
    });
  }

  private <T> void readNow(StreamObserver<T> out, ViewRead<T> read) {
    try (ReadView view = member.store().snapshot()) {
      T resp = read.answer(view);
      out.onNext(resp);
      out.onCompleted();
    } catch (V3Error e) {
      out.onError(V3Status.of(e));
    } catch (RuntimeException e) {
      out.onError(V3Status.internal(e));
    }
  }

  @Override
  public void put(PutRequest r, StreamObserver<PutResponse> out) {
    String bad = checkPut(r);
    if (bad != null) {
      out.onError(V3Status.of(bad));
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
    if (!V3Kv.readOnly(r)) {
      propose(StoreCommand.newBuilder().setV3Txn(r).build(), out,
          m -> ((TxnResponse) m).toBuilder().setHeader(header(((TxnResponse) m).getHeader())).build());
      return;
    }
    // as etcd: a read-only txn is a read (after a ReadIndex unless every range is serializable),
    // not a log entry that waits behind the writes
    if (r.getSerializedSize() > maxRequestBytes) {
      out.onError(V3Status.of(V3Status.TOO_LARGE));
      return;
    }
    try {
      member.machine().auth().checkReadOnlyTxn(AuthContext.currentUser(), r);
    } catch (V3Error e) {
      out.onError(V3Status.of(e));
      return;
    }
    read(V3Kv.serializable(r), out, view -> {
      TxnResponse resp = V3Kv.readTxn(view, r, member.store().compactRevision());
      return resp.toBuilder().setHeader(header(resp.getHeader())).build();
    });
  }

  @Override
  public void compact(CompactionRequest r, StreamObserver<CompactionResponse> out) {
    propose(StoreCommand.newBuilder().setV3Compaction(r).build(), out,
        m -> ((CompactionResponse) m).toBuilder().setHeader(header(((CompactionResponse) m).getHeader())).build());
  }

  /** etcd's checkTxnRequest and checkIntervals: the answer to give, or null when the txn is fine. */
  static String checkTxn(TxnRequest r) {
    String bad = checkTxn(r, MAX_TXN_OPS);
    if (bad != null) {
      return bad;
    }
    try {
      TxnIntervals.check(r.getSuccessList());
      TxnIntervals.check(r.getFailureList());
    } catch (TxnIntervals.Overlap e) {
      return V3Status.DUPLICATE_KEY;
    }
    return null;
  }

  /** etcd's checkTxnRequest: op counts (a nested txn gets what its parent leaves), keys present. */
  private static String checkTxn(TxnRequest r, int maxOps) {
    int ops = Math.max(r.getCompareCount(), Math.max(r.getSuccessCount(), r.getFailureCount()));
    if (ops > maxOps) {
      return V3Status.TOO_MANY_OPS;
    }
    for (var c : r.getCompareList()) {
      if (c.getKey().isEmpty()) {
        return V3Status.KEY_NOT_PROVIDED;
      }
    }
    for (var list : java.util.List.of(r.getSuccessList(), r.getFailureList())) {
      for (RequestOp op : list) {
        String bad = switch (op.getRequestCase()) {
          case REQUEST_PUT -> checkPut(op.getRequestPut());
          case REQUEST_RANGE -> op.getRequestRange().getKey().isEmpty() ? V3Status.KEY_NOT_PROVIDED : null;
          case REQUEST_DELETE_RANGE -> op.getRequestDeleteRange().getKey().isEmpty() ? V3Status.KEY_NOT_PROVIDED : null;
          case REQUEST_TXN -> checkTxn(op.getRequestTxn(), maxOps - ops);
          default -> "etcdserver: key not found"; // etcd's answer to an empty op
        };
        if (bad != null) {
          return bad;
        }
      }
    }
    return null;
  }

  static String checkPut(PutRequest r) {
    if (r.getKey().isEmpty()) {
      return V3Status.KEY_NOT_PROVIDED;
    }
    if (r.getIgnoreValue() && !r.getValue().isEmpty()) {
      return V3Status.VALUE_PROVIDED;
    }
    if (r.getIgnoreLease() && r.getLease() != 0) {
      return V3Status.LEASE_PROVIDED;
    }
    return null;
  }

  /**
   * Proposes a v3 write and answers with {@code answer} applied to its response once applied
   * (the Lease service's grant and revoke come through here too).
   */
  <T> void propose(StoreCommand cmd, StreamObserver<T> out, Function<Message, T> answer) {
    cmd = AuthContext.stamp(cmd); // checked against the auth state at apply
    byte[] bytes = cmd.toByteArray();
    if (bytes.length > maxRequestBytes) {
      out.onError(V3Status.of(V3Status.TOO_LARGE));
      return;
    }
    if (overQuota(cmd, bytes.length)) {
      out.onError(V3Status.of(V3Error.noSpace()));
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

  /** --max-request-bytes: also the size past which a fragmenting watcher's responses are split. */
  long maxRequestBytes() {
    return maxRequestBytes;
  }

  /** Sets the backend quota and what to do when a write would pass it (raise NOSPACE). */
  void quota(long bytes, Runnable onExceeded) {
    this.quotaBytes = bytes;
    this.raiseNoSpace = onExceeded;
  }

  /**
   * etcd's quota check before a write that can grow the store: the store's size plus the request's
   * cost must stay within the quota, else NOSPACE is raised and the write refused.
   */
  private boolean overQuota(StoreCommand cmd, int bytes) {
    long quota = quotaBytes;
    if (quota <= 0 || !dev.flotilla.kv.server.StoreStateMachine.growsStore(cmd)) {
      return false;
    }
    if (storeSize() + bytes + QUOTA_OVERHEAD_BYTES <= quota) {
      return false;
    }
    raiseNoSpace.run();
    return true;
  }

  /** How stale the store size the quota check uses may be: measuring it takes RocksDB calls per column family. */
  static final long SIZE_REFRESH_NANOS = 100_000_000L;
  private volatile long sizeBytes;
  private final AtomicLong sizeMeasuredAt = new AtomicLong(System.nanoTime() - SIZE_REFRESH_NANOS);

  private long storeSize() {
    long now = System.nanoTime();
    long last = sizeMeasuredAt.get();
    // one thread measures; the event loops that come meanwhile take the last size (under load,
    // all of them measured at once every 100 ms: RocksDB calls per column family on each loop)
    if (now - last >= SIZE_REFRESH_NANOS && sizeMeasuredAt.compareAndSet(last, now)) {
      sizeBytes = member.store().sizeBytes();
    }
    return sizeBytes;
  }

  /** etcd's per-request overhead estimate in its quota (bolt page and index bookkeeping). */
  static final int QUOTA_OVERHEAD_BYTES = 512;

  ResponseHeader header(ResponseHeader h) {
    return h.toBuilder()
        .setClusterId(member.identity().clusterId())
        .setMemberId(member.identity().memberId())
        .setRaftTerm(member.log().term())
        .build();
  }
}
