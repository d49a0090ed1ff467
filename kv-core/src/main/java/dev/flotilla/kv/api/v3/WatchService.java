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
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * etcd's Watch service: one bidirectional stream carries many watchers, created, canceled and
 * asked for progress by the client; events come from the {@link V3WatchHub}.
 */
final class WatchService extends WatchGrpc.WatchImplBase {
  private final StoreMember member;
  private final KvService headers;

  WatchService(StoreMember member, KvService headers) {
    this.member = member;
    this.headers = headers;
  }

  @Override
  public StreamObserver<WatchRequest> watch(StreamObserver<WatchResponse> out) {
    return new Stream(out);
  }

  private final class Stream implements StreamObserver<WatchRequest> {
    private final StreamObserver<WatchResponse> out;
    private final Map<Long, V3WatchHub.Watcher> watchers = new HashMap<>();
    private long nextId;
    private boolean closed;

    Stream(StreamObserver<WatchResponse> out) {
      this.out = out;
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
              send(WatchResponse.newBuilder().setHeader(header(revision)).setWatchId(watchId)
                  .addAllEvents(events).build());
            }

            @Override
            public void compacted(long compactRevision) {
              synchronized (Stream.this) {
                watchers.remove(watchId);
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
      }
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
