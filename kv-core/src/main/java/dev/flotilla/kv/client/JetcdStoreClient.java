package dev.flotilla.kv.client;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.kv.DeleteResponse;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.lease.NoSuchLeaseException;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link StoreClient} of a remote store — kvd or a real etcd — over jetcd (gRPC), given the
 * client URLs. A watch resumes after the last revision delivered when its stream fails (jetcd
 * itself gives up when the member it was on dies), and leases are renewed on this client's own
 * timer, a third of the TTL apart.
 */
public final class JetcdStoreClient implements StoreClient {
  private static final Logger log = LoggerFactory.getLogger(JetcdStoreClient.class);
  private final Client client;
  private final Duration timeout;
  private final ExecutorService delivery = Executors.newCachedThreadPool(InProcessStoreClient.daemon("store-client-watch"));
  /** Lease renewals ({@link #keepAlive}); its thread starts with the first. */
  private final java.util.concurrent.ScheduledExecutorService renewals =
      Executors.newSingleThreadScheduledExecutor(InProcessStoreClient.daemon("store-client-keepalive"));
  private final OpenStreams open = new OpenStreams();

  private JetcdStoreClient(Client client, Duration timeout) {
    this.client = client;
    this.timeout = timeout;
  }

  /** A client of the store at {@code endpoints} (http://host:port), waiting up to {@code timeout} per request. */
  public static JetcdStoreClient connect(List<URI> endpoints, Duration timeout) {
    return connect(endpoints, timeout, null, null, null);
  }

  /**
   * As {@link #connect(List, Duration)}, as the store's auth user {@code user} (null or empty: no
   * user; the store must then have auth off). jetcd authenticates and renews its token itself.
   */
  public static JetcdStoreClient connect(List<URI> endpoints, Duration timeout, String user, String password) {
    return connect(endpoints, timeout, null, user, password);
  }

  /**
   * A client of the store at {@code endpoints}, over TLS with {@code tls} (its CA checks the
   * members' certificates, its certificate and key, if any, are presented to them); null: plaintext.
   */
  public static JetcdStoreClient connect(List<URI> endpoints, Duration timeout, dev.flotilla.kv.tls.TlsCredentials tls) {
    return connect(endpoints, timeout, tls, null, null);
  }

  /** As {@link #connect(List, Duration, dev.flotilla.kv.tls.TlsCredentials)}, as the store's auth user {@code user}. */
  public static JetcdStoreClient connect(List<URI> endpoints, Duration timeout, dev.flotilla.kv.tls.TlsCredentials tls,
      String user, String password) {
    if (endpoints.isEmpty()) {
      throw new IllegalArgumentException("no store endpoints given; pass the client URLs, e.g. http://127.0.0.1:2379");
    }
    // answers as large as the store sends, as etcd's own Go client takes them (math.MaxInt32):
    // gRPC's 4 MiB default refused a full read of the fleet registry past ~15,000 units
    var builder = Client.builder().endpoints(endpoints.toArray(URI[]::new)).maxInboundMessageSize(Integer.MAX_VALUE);
    if (user != null && !user.isEmpty()) {
      if (password == null) {
        throw new IllegalArgumentException("a store user (" + user + ") needs a password");
      }
      builder.user(ByteSequence.from(user, java.nio.charset.StandardCharsets.UTF_8))
          .password(ByteSequence.from(password, java.nio.charset.StandardCharsets.UTF_8));
    }
    boolean https = endpoints.stream().anyMatch(u -> "https".equals(u.getScheme()));
    if (https) {
      try {
        if (tls != null) {
          builder.sslContext(tls.nettyGrpcClient());
        } else {
          try (var systemCas = dev.flotilla.kv.tls.TlsCredentials.load(dev.flotilla.kv.tls.TlsSettings.tool(null, null, null))) {
            builder.sslContext(systemCas.nettyGrpcClient());
          }
        }
      } catch (java.io.IOException e) {
        throw new IllegalArgumentException("cannot set up TLS towards " + endpoints + ": " + e.getMessage(), e);
      }
    }
    return new JetcdStoreClient(builder.build(), timeout);
  }

  public static JetcdStoreClient connect(URI endpoint) {
    return connect(List.of(endpoint), Duration.ofSeconds(10));
  }

  static ByteSequence seq(ByteString b) {
    return ByteSequence.from(b);
  }

  static ByteString bytes(ByteSequence s) {
    return ByteString.copyFrom(s.getBytes());
  }

  static KeyValue kv(io.etcd.jetcd.KeyValue kv) {
    return new KeyValue(bytes(kv.getKey()), bytes(kv.getValue()), kv.getCreateRevision(), kv.getModRevision(),
        kv.getVersion(), kv.getLease());
  }

  private static GetOption getOption(KeyRange range, long revision) {
    return getOption(range, revision, 0);
  }

  private static GetOption getOption(KeyRange range, long revision, long limit) {
    var o = GetOption.builder().withRevision(revision).withLimit(limit);
    if (!range.isSingleKey()) {
      o.withRange(seq(range.end()));
    }
    return o.build();
  }

  private static PutOption putOption(long lease) {
    return PutOption.builder().withLeaseId(lease).withPrevKV().build();
  }

  private static DeleteOption deleteOption(KeyRange range) {
    var o = DeleteOption.builder().withPrevKV(true);
    if (!range.isSingleKey()) {
      o.withRange(seq(range.end()));
    }
    return o.build();
  }

  private static GetResult get(GetResponse r) {
    return new GetResult(r.getHeader().getRevision(), r.getKvs().stream().map(JetcdStoreClient::kv).toList());
  }

  private static PutResult put(io.etcd.jetcd.kv.PutResponse r) {
    return new PutResult(r.getHeader().getRevision(), r.hasPrevKv() ? Optional.of(kv(r.getPrevKv())) : Optional.empty());
  }

  private static DeleteResult delete(DeleteResponse r) {
    return new DeleteResult(r.getHeader().getRevision(), r.getPrevKvs().stream().map(JetcdStoreClient::kv).toList());
  }

  @Override
  public GetResult get(KeyRange range, long revision, long limit) {
    return get(await(client.getKVClient().get(seq(range.key()), getOption(range, revision, limit))));
  }

  @Override
  public PutResult put(ByteString key, ByteString value, long lease) {
    return put(await(client.getKVClient().put(seq(key), seq(value), putOption(lease))));
  }

  @Override
  public DeleteResult delete(KeyRange range) {
    return delete(await(client.getKVClient().delete(seq(range.key()), deleteOption(range))));
  }

  @Override
  public TxnResult txn(Txn txn) {
    var r = await(client.getKVClient().txn()
        .If(txn.compares().stream().map(JetcdStoreClient::cmp).toArray(Cmp[]::new))
        .Then(txn.success().stream().map(JetcdStoreClient::op).toArray(io.etcd.jetcd.op.Op[]::new))
        .Else(txn.failure().stream().map(JetcdStoreClient::op).toArray(io.etcd.jetcd.op.Op[]::new))
        .commit());
    // jetcd hands back the answers grouped by kind; each group keeps op order, so the ops put
    // them back in sequence
    Iterator<GetResponse> gets = r.getGetResponses().iterator();
    Iterator<io.etcd.jetcd.kv.PutResponse> puts = r.getPutResponses().iterator();
    Iterator<DeleteResponse> deletes = r.getDeleteResponses().iterator();
    List<OpResult> results = new ArrayList<>();
    for (Op op : r.isSucceeded() ? txn.success() : txn.failure()) {
      if (op instanceof Op.Get) {
        results.add(get(gets.next()));
      } else if (op instanceof Op.Put) {
        results.add(put(puts.next()));
      } else {
        results.add(delete(deletes.next()));
      }
    }
    return new TxnResult(r.isSucceeded(), r.getHeader().getRevision(), results);
  }

  private static Cmp cmp(Compare c) {
    Cmp.Op op = switch (c.result()) {
      case EQUAL -> Cmp.Op.EQUAL;
      case NOT_EQUAL -> Cmp.Op.NOT_EQUAL;
      case GREATER -> Cmp.Op.GREATER;
      case LESS -> Cmp.Op.LESS;
    };
    CmpTarget<?> target = switch (c.target()) {
      case VALUE -> CmpTarget.value(seq(c.value()));
      case VERSION -> CmpTarget.version(c.number());
      case CREATE_REVISION -> CmpTarget.createRevision(c.number());
      case MOD_REVISION -> CmpTarget.modRevision(c.number());
    };
    return new Cmp(seq(c.key()), op, target);
  }

  private static io.etcd.jetcd.op.Op op(Op op) {
    if (op instanceof Op.Get g) {
      return io.etcd.jetcd.op.Op.get(seq(g.range().key()), getOption(g.range(), 0));
    } else if (op instanceof Op.Put p) {
      return io.etcd.jetcd.op.Op.put(seq(p.key()), seq(p.value()), putOption(p.lease()));
    }
    Op.Delete d = (Op.Delete) op;
    return io.etcd.jetcd.op.Op.delete(seq(d.range().key()), deleteOption(d.range()));
  }

  @Override
  public long compact(long revision) {
    return await(client.getKVClient().compact(revision)).getHeader().getRevision();
  }

  @Override
  public LeaseGrant grant(long ttlSeconds) {
    var r = await(client.getLeaseClient().grant(ttlSeconds));
    return new LeaseGrant(r.getID(), r.getTTL(), r.getHeader().getRevision());
  }

  @Override
  public long revoke(long lease) {
    return await(client.getLeaseClient().revoke(lease)).getHeader().getRevision();
  }

  @Override
  public LeaseInfo timeToLive(long lease) {
    var r = await(client.getLeaseClient().timeToLive(lease, LeaseOption.builder().withAttachedKeys().build()));
    return new LeaseInfo(r.getID(), r.getTTL(), r.getGrantedTTL(),
        r.getKeys().stream().map(JetcdStoreClient::bytes).toList(), r.getHeader().getRevision());
  }

  @Override
  public WatchHandle watch(KeyRange range, long fromRevision, WatchListener listener) {
    open.ensureOpen();
    ResumingWatch w = new ResumingWatch(range, fromRevision, new SerialListener(listener, delivery));
    WatchHandle handle = new WatchHandle() {
      @Override
      public void close() {
        if (open.remove(this)) {
          w.close();
        }
      }
    };
    open.add(handle);
    w.start();
    return handle;
  }

  /**
   * One watch as the caller sees it: when jetcd gives up on its stream (the member it was on was
   * killed, and jetcd takes "Network closed" for final), it is opened again, on whichever member
   * answers, from the revision after the last event delivered, so that no event is lost or
   * repeated. Only a compaction of that revision, or {@link #RESUME_ATTEMPTS} failures in a row
   * (about a minute without any member), end it.
   */
  private final class ResumingWatch {
    private final KeyRange range;
    private final SerialListener sink;
    private long next;
    private int failures;
    private boolean ended;
    private Watch.Watcher current;
    /** Which stream is current: callbacks of an older one (closed, or closing) are ignored. */
    private int generation;

    ResumingWatch(KeyRange range, long fromRevision, SerialListener sink) {
      this.range = range;
      this.next = fromRevision;
      this.sink = sink;
    }

    synchronized void start() {
      if (ended || open.closed()) {
        return;
      }
      var option = WatchOption.builder().withRevision(next);
      if (!range.isSingleKey()) {
        option.withRange(seq(range.end()));
      }
      int gen = ++generation;
      current = client.getWatchClient().watch(seq(range.key()), option.build(), new Watch.Listener() {
        @Override
        public void onNext(io.etcd.jetcd.watch.WatchResponse r) {
          if (r.getEvents().isEmpty()) {
            return; // created or progress notices
          }
          List<WatchEvent> events = new ArrayList<>(r.getEvents().size());
          for (var e : r.getEvents()) {
            events.add(new WatchEvent(e.getEventType() == io.etcd.jetcd.watch.WatchEvent.EventType.DELETE
                ? WatchEvent.Type.DELETE : WatchEvent.Type.PUT, kv(e.getKeyValue())));
          }
          delivered(gen, events);
        }

        @Override
        public void onError(Throwable t) {
          failed(gen, StoreException.unwrap(t));
        }

        @Override
        public void onCompleted() {
          failed(gen, new StoreException(StoreException.Code.CLOSED, "the watch was closed by the server"));
        }
      });
    }

    private synchronized void delivered(int gen, List<WatchEvent> events) {
      if (ended || gen != generation) {
        return;
      }
      next = events.get(events.size() - 1).revision() + 1;
      failures = 0;
      sink.events(events);
    }

    private synchronized void failed(int gen, Throwable cause) {
      if (ended || gen != generation) {
        return;
      }
      generation++; // this stream is done: nothing more from it counts
      Watch.Watcher old = current;
      current = null;
      if (old != null) {
        old.close();
      }
      if (cause instanceof CompactedException c) {
        ended = true;
        sink.compacted(c.getCompactedRevision());
      } else if (open.closed() || ++failures > RESUME_ATTEMPTS) {
        ended = true;
        sink.error(failure(cause));
      } else {
        long delayMs = Math.min(2_000, 100L << Math.min(4, failures - 1));
        log.info("watch of {}: stream failed ({}); resuming from revision {} in {} ms", range, cause.getMessage(),
            next, delayMs);
        CompletableFuture.delayedExecutor(delayMs, TimeUnit.MILLISECONDS, delivery).execute(this::start);
      }
    }

    synchronized void close() {
      ended = true;
      sink.close();
      Watch.Watcher old = current;
      current = null;
      if (old != null) {
        old.close();
      }
    }
  }

  /** Attempts at reopening a watch whose stream failed, 0.1 s to 2 s apart: about a minute. */
  private static final int RESUME_ATTEMPTS = 35;

  /** How soon a renewal that failed without the store saying the lease is gone is tried again. */
  private static final long RENEW_RETRY_MS = 500;

  /**
   * {@inheritDoc} One {@code LeaseKeepAlive} request a third of the TTL apart, on this client's
   * own timer ({@code keepAliveOnce}), not jetcd's keep-alive, whose vert.x timers fire every
   * 0.5 s and 1 s per lease whatever the TTL: an idle fleetd's event loop woke ~6 times a second
   * for two leases renewed every 10 s. A renewal that fails (no leader, a member down) is tried
   * again every 0.5 s until the lease would have run out; the store saying the lease is gone, or
   * running out, ends it.
   */
  @Override
  public KeepAlive keepAlive(long lease) {
    open.ensureOpen();
    var ka = new Renewal(lease);
    open.add(ka);
    ka.schedule(0);
    return ka;
  }

  private final class Renewal implements KeepAlive {
    private final long lease;
    private final CompletableFuture<StoreException> lost = new CompletableFuture<>();
    /** Until when the lease holds for sure (the last answer's TTL from when it was asked); before one: the request timeout. */
    private volatile long holdsUntil = System.nanoTime() + timeout.toNanos();
    private volatile java.util.concurrent.ScheduledFuture<?> next;
    private volatile boolean ended;

    Renewal(long lease) {
      this.lease = lease;
    }

    @Override
    public long leaseId() {
      return lease;
    }

    @Override
    public CompletableFuture<StoreException> lost() {
      return lost;
    }

    void schedule(long delayMs) {
      if (!ended) {
        try {
          next = renewals.schedule(this::renew, delayMs, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
          // the client is closing
        }
      }
    }

    private void renew() {
      if (ended) {
        return;
      }
      long askedAt = System.nanoTime();
      client.getLeaseClient().keepAliveOnce(lease).orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
          .whenComplete((r, t) -> {
            if (t == null && r.getTTL() > 0) {
              holdsUntil = askedAt + TimeUnit.SECONDS.toNanos(r.getTTL());
              schedule(KeepAlive.renewDelayMillis(r.getTTL()));
              return;
            }
            Throwable cause = t == null ? null : StoreException.unwrap(t);
            StoreException why = cause == null || cause instanceof NoSuchLeaseException
                ? StoreException.leaseGone(lease, cause)
                : failure(cause);
            if (why.code() == StoreException.Code.LEASE_NOT_FOUND
                || System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RENEW_RETRY_MS) - holdsUntil >= 0) {
              end(why); // gone, or it runs out before the next try could renew it
            } else {
              schedule(RENEW_RETRY_MS);
            }
          });
    }

    private void end(StoreException why) {
      if (open.remove(this)) {
        ended = true;
        lost.complete(why);
      }
    }

    @Override
    public void close() {
      if (open.remove(this)) {
        ended = true;
        var n = next;
        if (n != null) {
          n.cancel(false);
        }
      }
    }
  }

  @Override
  public void close() {
    open.closeAll();
    renewals.shutdownNow();
    client.close();
    delivery.shutdown();
  }

  private <T> T await(CompletableFuture<T> f) {
    open.ensureOpen();
    try {
      return f.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new StoreException(StoreException.Code.TIMEOUT, "no answer from the store within " + timeout, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException(StoreException.Code.UNAVAILABLE, "interrupted while waiting for the store", e);
    } catch (ExecutionException e) {
      throw failure(e);
    }
  }

  private static StoreException failure(Throwable t) {
    Throwable cause = StoreException.unwrap(t);
    if (cause instanceof StoreException s) {
      return s;
    }
    if (cause instanceof EtcdException e) {
      return StoreException.classify(e.getErrorCode().name(), e.getMessage(), e);
    }
    return InProcessStoreClient.failure(cause);
  }
}
