package dev.flotilla.kv.api.v3;

import com.google.protobuf.ByteString;
import dev.flotilla.kv.server.StoreMember;
import dev.flotilla.kv.v3.V3WatchHub;
import dev.flotilla.proto.etcd.etcdserverpb.ResponseHeader;
import dev.flotilla.proto.etcd.etcdserverpb.WatchCreateRequest;
import dev.flotilla.proto.etcd.etcdserverpb.WatchGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.WatchRequest;
import dev.flotilla.proto.etcd.etcdserverpb.WatchResponse;
import dev.flotilla.proto.etcd.mvccpb.Event;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * etcd's Watch service: one bidirectional stream carries many watchers, created, canceled and
 * asked for progress by the client; events come from the {@link V3WatchHub}. A watcher created
 * with {@code fragment} gets responses larger than --max-request-bytes plus gRPC's 512 KiB allowance
 * split into fragments; one
 * created with {@code progress_notify} gets an empty response with the current revision every
 * progress interval in which it got no events (etcd: 10 minutes).
 */
final class WatchService extends WatchGrpc.WatchImplBase implements AutoCloseable {
  /** etcd 3.4's progressReportInterval. */
  static final Duration DEFAULT_PROGRESS_INTERVAL = Duration.ofMinutes(10);

  private final StoreMember member;
  private final KvService headers;
  private final Set<Stream> streams = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService progressTicker = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "v3-watch-progress");
    t.setDaemon(true);
    return t;
  });

  WatchService(StoreMember member, KvService headers, Duration progressInterval) {
    this.member = member;
    this.headers = headers;
    long ms = progressInterval.toMillis();
    progressTicker.scheduleAtFixedRate(() -> streams.forEach(Stream::progressTick), ms, ms, TimeUnit.MILLISECONDS);
  }

  @Override
  public StreamObserver<WatchRequest> watch(StreamObserver<WatchResponse> out) {
    Stream s = new Stream(out);
    streams.add(s);
    return s;
  }

  @Override
  public void close() {
    progressTicker.shutdownNow();
  }

  private final class Stream implements StreamObserver<WatchRequest> {
    private final StreamObserver<WatchResponse> out;
    private final Map<Long, V3WatchHub.Watcher> watchers = new HashMap<>();
    /** Watchers with progress_notify: true while no event went out since the last tick (etcd's progress map). */
    private final Map<Long, Boolean> quiet = new HashMap<>();
    private long nextId;
    private boolean closed;
    /** Who opened the stream (its token is read once, when the stream starts, as etcd does). */
    private final String user = AuthContext.currentUser();

    Stream(StreamObserver<WatchResponse> out) {
      this.out = out;
    }

    /** etcd's progress ticker: a notification to each quiet, caught-up watcher, then all are quiet again. */
    private void progressTick() {
      List<Map.Entry<Long, V3WatchHub.Watcher>> due = new java.util.ArrayList<>();
      synchronized (this) {
        for (var e : quiet.entrySet()) {
          V3WatchHub.Watcher w = watchers.get(e.getKey());
          if (e.getValue() && w != null) {
            due.add(Map.entry(e.getKey(), w));
          }
          e.setValue(true);
        }
      }
      var hub = member.machine().v3Watchers();
      for (var e : due) {
        hub.progress(e.getValue(), rev -> send(WatchResponse.newBuilder().setHeader(header(rev))
            .setWatchId(e.getKey()).build()));
      }
    }

    /** Events for a watcher, in fragments when it asked for them and the response is too large. */
    private void sendEvents(long watchId, List<Event> events, long revision, boolean fragment) {
      WatchResponse whole = WatchResponse.newBuilder().setHeader(header(revision)).setWatchId(watchId)
          .addAllEvents(events).build();
      synchronized (this) {
        quiet.computeIfPresent(watchId, (k, v) -> false);
      }
      long limit = headers.maxRequestBytes() + V3GrpcServer.GRPC_OVERHEAD_BYTES; // etcd's watch server limit
      if (!fragment || whole.getSerializedSize() < limit || events.size() < 2) {
        send(whole);
        return;
      }
      // etcd's sendFragments: as many events as fit under the limit (at least one) per response,
      // every response but the last marked fragment
      WatchResponse.Builder cur = whole.toBuilder().clearEvents().setFragment(true);
      int sent = 0;
      while (sent < events.size()) {
        cur.clearEvents();
        while (sent < events.size()) {
          cur.addEvents(events.get(sent));
          if (cur.getEventsCount() > 1 && cur.build().getSerializedSize() >= limit) {
            cur.removeEvents(cur.getEventsCount() - 1);
            break;
          }
          sent++;
        }
        send(cur.setFragment(sent < events.size()).build());
      }
    }

    private synchronized void send(WatchResponse r) {
      if (!closed) {
        out.onNext(r);
      }
    }

    private ResponseHeader header(long revision) {
      return headers.header(ResponseHeader.newBuilder().setRevision(revision).build());
    }

    @Override
    public void onNext(WatchRequest req) {
      switch (req.getRequestUnionCase()) {
        case CREATE_REQUEST -> create(req.getCreateRequest());
        case CANCEL_REQUEST -> {
          long id = req.getCancelRequest().getWatchId();
          V3WatchHub.Watcher w;
          synchronized (this) {
            w = watchers.remove(id);
            quiet.remove(id);
          }
          if (w != null) {
            w.cancel();
            send(WatchResponse.newBuilder().setHeader(header(member.store().revision()))
                .setWatchId(id).setCanceled(true).build());
          }
        }
        case PROGRESS_REQUEST -> send(WatchResponse.newBuilder()
            .setHeader(header(member.machine().v3Watchers().currentRevision())).setWatchId(-1).build());
        default -> { }
      }
    }

    private void create(WatchCreateRequest c) {
      try {
        member.machine().auth().checkRange(user, c.getKey().isEmpty() ? ByteString.copyFrom(new byte[] {0}) : c.getKey(),
            c.getRangeEnd());
      } catch (dev.flotilla.kv.v3.V3Error e) {
        // etcd's watch server: a refused create is answered created and canceled, with gRPC's text of the error
        send(WatchResponse.newBuilder().setHeader(header(member.store().revision())).setWatchId(c.getWatchId())
            .setCreated(true).setCanceled(true)
            .setCancelReason("rpc error: code = PermissionDenied desc = " + e.getMessage()).build());
        return;
      }
      long id;
      synchronized (this) {
        if (c.getWatchId() != 0) {
          id = c.getWatchId();
          if (watchers.containsKey(id)) {
            // etcd answers a refused create with the invalid watch id -1
            send(WatchResponse.newBuilder().setHeader(header(member.store().revision()))
                .setWatchId(-1).setCreated(true).setCanceled(true)
                .setCancelReason("mvcc: duplicate watch ID provided on the WatchStream").build());
            return;
          }
        } else {
          while (watchers.containsKey(nextId)) {
            nextId++;
          }
          id = nextId++;
        }
      }
      // as etcd's watch server: an empty key is "\0", the smallest key (so "" with range_end
      // "\0" watches every key)
      ByteString key = c.getKey().isEmpty() ? ByteString.copyFrom(new byte[] {0}) : c.getKey();
      final long watchId = id;
      boolean noPut = c.getFiltersList().contains(WatchCreateRequest.FilterType.NOPUT);
      boolean noDelete = c.getFiltersList().contains(WatchCreateRequest.FilterType.NODELETE);
      var hub = member.machine().v3Watchers();
      V3WatchHub.Watcher w = hub.watch(key, c.getRangeEnd(), c.getStartRevision(), noPut, noDelete,
          c.getPrevKv(), new V3WatchHub.Sink() {
            @Override
            public void events(List<Event> events, long revision) {
              sendEvents(watchId, events, revision, c.getFragment());
            }

            @Override
            public void compacted(long compactRevision) {
              synchronized (Stream.this) {
                watchers.remove(watchId);
                quiet.remove(watchId);
              }
              // etcd's answer: no header revision and no cancel reason, only compact_revision
              // (clients turn that into "required revision has been compacted")
              send(WatchResponse.newBuilder().setHeader(header(0))
                  .setWatchId(watchId).setCanceled(true).setCompactRevision(compactRevision).build());
            }
          },
          () -> send(WatchResponse.newBuilder().setHeader(header(hub.currentRevision()))
              .setWatchId(watchId).setCreated(true).build()));
      if (w != null) {
        synchronized (this) {
          if (closed) {
            w.cancel();
          } else {
            watchers.put(watchId, w);
            if (c.getProgressNotify()) {
              quiet.put(watchId, true);
            }
          }
        }
      }
    }

    private void end() {
      List<V3WatchHub.Watcher> all;
      synchronized (this) {
        closed = true;
        all = List.copyOf(watchers.values());
        watchers.clear();
        quiet.clear();
      }
      streams.remove(this);
      all.forEach(V3WatchHub.Watcher::cancel);
    }

    @Override
    public void onError(Throwable t) {
      end();
    }

    @Override
    public void onCompleted() {
      // the client half-closed: as etcd's watch server, keep the stream and its watchers until
      // the call itself ends (the client cancels or goes away, which arrives as onError)
    }
  }
}
