package dev.flotilla.kv.client;

import com.google.protobuf.ByteString;
import dev.flotilla.proto.etcd.etcdserverpb.CompactionRequest;
import dev.flotilla.proto.etcd.etcdserverpb.Compare.CompareTarget;
import dev.flotilla.proto.etcd.etcdserverpb.DeleteRangeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.DeleteRangeResponse;
import dev.flotilla.proto.etcd.etcdserverpb.KVGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseGrantRequest;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseKeepAliveRequest;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseKeepAliveResponse;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseRevokeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseTimeToLiveRequest;
import dev.flotilla.proto.etcd.etcdserverpb.PutRequest;
import dev.flotilla.proto.etcd.etcdserverpb.PutResponse;
import dev.flotilla.proto.etcd.etcdserverpb.RangeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.RangeResponse;
import dev.flotilla.proto.etcd.etcdserverpb.RequestOp;
import dev.flotilla.proto.etcd.etcdserverpb.ResponseOp;
import dev.flotilla.proto.etcd.etcdserverpb.TxnRequest;
import dev.flotilla.proto.etcd.etcdserverpb.WatchCancelRequest;
import dev.flotilla.proto.etcd.etcdserverpb.WatchCreateRequest;
import dev.flotilla.proto.etcd.etcdserverpb.WatchGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.WatchRequest;
import dev.flotilla.proto.etcd.etcdserverpb.WatchResponse;
import dev.flotilla.proto.etcd.mvccpb.Event;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The {@link StoreClient} of a member in this JVM: it calls the member's v3 service objects
 * (the ones gRPC calls) directly, so a request takes the same path as one from the network —
 * the same checks, writes proposed through the member's {@code CommandLog} and applied like
 * any v3 request, the same watch hub and lessor — minus serialization and sockets.
 * Get one from {@code EmbeddedKv.storeClient()}.
 */
public final class InProcessStoreClient implements StoreClient {
  private final KVGrpc.AsyncService kv;
  private final WatchGrpc.AsyncService watch;
  private final LeaseGrpc.AsyncService lease;
  private final Duration timeout;
  private final ExecutorService delivery;
  private final ScheduledExecutorService keepAliveTimer;
  private final OpenStreams open = new OpenStreams();

  public InProcessStoreClient(KVGrpc.AsyncService kv, WatchGrpc.AsyncService watch, LeaseGrpc.AsyncService lease,
      Duration timeout) {
    this.kv = kv;
    this.watch = watch;
    this.lease = lease;
    this.timeout = timeout;
    this.delivery = Executors.newCachedThreadPool(daemon("store-client-watch"));
    this.keepAliveTimer = Executors.newSingleThreadScheduledExecutor(daemon("store-client-keepalive"));
  }

  static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  @Override
  public GetResult get(KeyRange range, long revision, long limit) {
    RangeResponse r = call(out -> kv.range(RangeRequest.newBuilder().setKey(range.key())
        .setRangeEnd(range.end()).setRevision(revision).setLimit(limit).build(), out));
    return get(r);
  }

  @Override
  public PutResult put(ByteString key, ByteString value, long leaseId) {
    PutResponse r = call(out -> kv.put(putRequest(key, value, leaseId), out));
    return put(r);
  }

  @Override
  public DeleteResult delete(KeyRange range) {
    DeleteRangeResponse r = call(out -> kv.deleteRange(deleteRequest(range), out));
    return delete(r);
  }

  @Override
  public TxnResult txn(Txn txn) {
    var req = TxnRequest.newBuilder();
    for (Compare c : txn.compares()) {
      req.addCompare(compare(c));
    }
    txn.success().forEach(op -> req.addSuccess(op(op)));
    txn.failure().forEach(op -> req.addFailure(op(op)));
    var r = this.<dev.flotilla.proto.etcd.etcdserverpb.TxnResponse>call(out -> kv.txn(req.build(), out));
    List<OpResult> results = new ArrayList<>();
    for (ResponseOp op : r.getResponsesList()) {
      results.add(switch (op.getResponseCase()) {
        case RESPONSE_RANGE -> get(op.getResponseRange());
        case RESPONSE_PUT -> put(op.getResponsePut());
        case RESPONSE_DELETE_RANGE -> delete(op.getResponseDeleteRange());
        default -> throw new StoreException(StoreException.Code.INVALID_REQUEST, "unexpected txn answer " + op);
      });
    }
    return new TxnResult(r.getSucceeded(), r.getHeader().getRevision(), results);
  }

  @Override
  public long compact(long revision) {
    return this.<dev.flotilla.proto.etcd.etcdserverpb.CompactionResponse>call(
        out -> kv.compact(CompactionRequest.newBuilder().setRevision(revision).build(), out)).getHeader().getRevision();
  }

  @Override
  public LeaseGrant grant(long ttlSeconds) {
    var r = this.<dev.flotilla.proto.etcd.etcdserverpb.LeaseGrantResponse>call(
        out -> lease.leaseGrant(LeaseGrantRequest.newBuilder().setTTL(ttlSeconds).build(), out));
    return new LeaseGrant(r.getID(), r.getTTL(), r.getHeader().getRevision());
  }

  @Override
  public long revoke(long leaseId) {
    return this.<dev.flotilla.proto.etcd.etcdserverpb.LeaseRevokeResponse>call(
        out -> lease.leaseRevoke(LeaseRevokeRequest.newBuilder().setID(leaseId).build(), out)).getHeader().getRevision();
  }

  @Override
  public LeaseInfo timeToLive(long leaseId) {
    var r = this.<dev.flotilla.proto.etcd.etcdserverpb.LeaseTimeToLiveResponse>call(
        out -> lease.leaseTimeToLive(LeaseTimeToLiveRequest.newBuilder().setID(leaseId).setKeys(true).build(), out));
    return new LeaseInfo(r.getID(), r.getTTL(), r.getGrantedTTL(), r.getKeysList(), r.getHeader().getRevision());
  }

  @Override
  public WatchHandle watch(KeyRange range, long fromRevision, WatchListener listener) {
    open.ensureOpen();
    SerialListener sink = new SerialListener(listener, delivery);
    StreamObserver<WatchRequest> requests = watch.watch(new StreamObserver<>() {
      @Override
      public void onNext(WatchResponse r) {
        if (r.getCompactRevision() != 0) {
          sink.compacted(r.getCompactRevision());
        } else if (r.getCanceled()) {
          sink.error(new StoreException(StoreException.Code.UNAVAILABLE, "watch canceled by the store: "
              + r.getCancelReason()));
        } else if (r.getEventsCount() > 0) {
          List<WatchEvent> events = new ArrayList<>(r.getEventsCount());
          for (Event e : r.getEventsList()) {
            events.add(new WatchEvent(e.getType() == Event.EventType.DELETE ? WatchEvent.Type.DELETE
                : WatchEvent.Type.PUT, kv(e.getKv())));
          }
          sink.events(events);
        }
      }

      @Override
      public void onError(Throwable t) {
        sink.error(failure(t));
      }

      @Override
      public void onCompleted() {
        sink.error(new StoreException(StoreException.Code.UNAVAILABLE, "the store ended the watch stream"));
      }
    });
    WatchHandle handle = new WatchHandle() {
      @Override
      public void close() {
        if (open.remove(this)) {
          sink.close();
          // ends the stream as a client going away does: the service cancels its watchers
          requests.onError(Status.CANCELLED.withDescription("watch closed by the client").asRuntimeException());
        }
      }
    };
    open.add(handle);
    requests.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
        .setKey(range.key()).setRangeEnd(range.end()).setStartRevision(fromRevision)).build());
    return handle;
  }

  @Override
  public KeepAlive keepAlive(long leaseId) {
    open.ensureOpen();
    var ka = new InProcessKeepAlive(leaseId);
    open.add(ka);
    ka.start();
    return ka;
  }

  /** Renews the lease through the service's keep-alive stream, a third of its TTL apart. */
  private final class InProcessKeepAlive implements KeepAlive {
    private final long id;
    private final CompletableFuture<StoreException> lost = new CompletableFuture<>();
    private StreamObserver<LeaseKeepAliveRequest> stream;
    private ScheduledFuture<?> next;
    private boolean ended;

    InProcessKeepAlive(long id) {
      this.id = id;
    }

    synchronized void start() {
      stream = lease.leaseKeepAlive(new StreamObserver<>() {
        @Override
        public void onNext(LeaseKeepAliveResponse r) {
          answered(r.getTTL());
        }

        @Override
        public void onError(Throwable t) {
          fail(failure(t));
        }

        @Override
        public void onCompleted() {
        }
      });
      next = keepAliveTimer.schedule(this::renew, 0, TimeUnit.MILLISECONDS);
    }

    private synchronized void renew() {
      if (!ended) {
        // the answer schedules the next renewal: at once from a leader, after a logged
        // checkpoint from a follower
        stream.onNext(LeaseKeepAliveRequest.newBuilder().setID(id).build());
      }
    }

    private synchronized void answered(long ttl) {
      if (ended) {
        return;
      }
      if (ttl <= 0) {
        fail(StoreException.leaseGone(id, null));
        return;
      }
      next = keepAliveTimer.schedule(this::renew, KeepAlive.renewDelayMillis(ttl), TimeUnit.MILLISECONDS);
    }

    private synchronized void fail(StoreException e) {
      if (!ended) {
        end();
        lost.complete(e);
      }
    }

    private synchronized void end() {
      ended = true;
      open.remove(this);
      if (next != null) {
        next.cancel(false);
      }
      stream.onCompleted();
    }

    @Override
    public long leaseId() {
      return id;
    }

    @Override
    public CompletableFuture<StoreException> lost() {
      return lost;
    }

    @Override
    public synchronized void close() {
      if (!ended) {
        end();
      }
    }
  }

  @Override
  public void close() {
    open.closeAll();
    keepAliveTimer.shutdownNow();
    delivery.shutdown();
  }

  /** Runs one unary service call and waits for its answer. */
  private <T> T call(Consumer<StreamObserver<T>> invoke) {
    open.ensureOpen();
    CompletableFuture<T> answer = new CompletableFuture<>();
    try {
      invoke.accept(new StreamObserver<>() {
        @Override
        public void onNext(T value) {
          answer.complete(value);
        }

        @Override
        public void onError(Throwable t) {
          answer.completeExceptionally(t);
        }

        @Override
        public void onCompleted() {
        }
      });
      return answer.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      throw new StoreException(StoreException.Code.TIMEOUT, "no answer from the store within " + timeout, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException(StoreException.Code.UNAVAILABLE, "interrupted while waiting for the store", e);
    } catch (ExecutionException | RuntimeException e) {
      throw failure(e);
    }
  }

  static StoreException failure(Throwable t) {
    Throwable cause = StoreException.unwrap(t);
    if (cause instanceof StoreException s) {
      return s;
    }
    if (cause instanceof StatusRuntimeException s) {
      return StoreException.classify(s.getStatus().getCode().name(), s.getStatus().getDescription(), s);
    }
    return StoreException.classify(null, cause.getMessage(), cause);
  }

  // ---- protos of the v3 API <-> the facade's records

  static PutRequest putRequest(ByteString key, ByteString value, long leaseId) {
    return PutRequest.newBuilder().setKey(key).setValue(value).setLease(leaseId).setPrevKv(true).build();
  }

  static DeleteRangeRequest deleteRequest(KeyRange range) {
    return DeleteRangeRequest.newBuilder().setKey(range.key()).setRangeEnd(range.end()).setPrevKv(true).build();
  }

  static RequestOp op(Op op) {
    if (op instanceof Op.Get g) {
      return RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder()
          .setKey(g.range().key()).setRangeEnd(g.range().end())).build();
    } else if (op instanceof Op.Put p) {
      return RequestOp.newBuilder().setRequestPut(putRequest(p.key(), p.value(), p.lease())).build();
    }
    return RequestOp.newBuilder().setRequestDeleteRange(deleteRequest(((Op.Delete) op).range())).build();
  }

  static dev.flotilla.proto.etcd.etcdserverpb.Compare compare(Compare c) {
    var b = dev.flotilla.proto.etcd.etcdserverpb.Compare.newBuilder().setKey(c.key())
        .setResult(switch (c.result()) {
          case EQUAL -> dev.flotilla.proto.etcd.etcdserverpb.Compare.CompareResult.EQUAL;
          case NOT_EQUAL -> dev.flotilla.proto.etcd.etcdserverpb.Compare.CompareResult.NOT_EQUAL;
          case GREATER -> dev.flotilla.proto.etcd.etcdserverpb.Compare.CompareResult.GREATER;
          case LESS -> dev.flotilla.proto.etcd.etcdserverpb.Compare.CompareResult.LESS;
        });
    return switch (c.target()) {
      case VALUE -> b.setTarget(CompareTarget.VALUE).setValue(c.value()).build();
      case VERSION -> b.setTarget(CompareTarget.VERSION).setVersion(c.number()).build();
      case CREATE_REVISION -> b.setTarget(CompareTarget.CREATE).setCreateRevision(c.number()).build();
      case MOD_REVISION -> b.setTarget(CompareTarget.MOD).setModRevision(c.number()).build();
    };
  }

  static KeyValue kv(dev.flotilla.proto.etcd.mvccpb.KeyValue kv) {
    return new KeyValue(kv.getKey(), kv.getValue(), kv.getCreateRevision(), kv.getModRevision(), kv.getVersion(),
        kv.getLease());
  }

  static GetResult get(RangeResponse r) {
    return new GetResult(r.getHeader().getRevision(), r.getKvsList().stream().map(InProcessStoreClient::kv).toList());
  }

  static PutResult put(PutResponse r) {
    return new PutResult(r.getHeader().getRevision(), r.hasPrevKv() ? Optional.of(kv(r.getPrevKv())) : Optional.empty());
  }

  static DeleteResult delete(DeleteRangeResponse r) {
    return new DeleteResult(r.getHeader().getRevision(),
        r.getPrevKvsList().stream().map(InProcessStoreClient::kv).toList());
  }
}
