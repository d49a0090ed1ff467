package dev.flotilla.kv.compat3;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.flotilla.proto.etcd.etcdserverpb.KVGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.PutRequest;
import dev.flotilla.proto.etcd.etcdserverpb.WatchCreateRequest;
import dev.flotilla.proto.etcd.etcdserverpb.WatchGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.WatchRequest;
import dev.flotilla.proto.etcd.etcdserverpb.WatchResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Watch response fragmentation and progress notifications over raw gRPC, against etcd 3.4 and kvd
 * with the same settings (progress every second, etcd's --experimental-watch-progress-notify-interval):
 * the sequence of responses, by shape (created, events per response, fragment flag, progress), must be
 * the same.
 */
class WatchFragmentCompat3Test {
  private static final int VALUE_BYTES = 200_000;
  private static final int KEYS = 12;

  @Test
  @Timeout(120)
  void fragmentsAndProgressNotificationsAsEtcd() throws Exception {
    try (V3Server etcd = EtcdV3Server.start("watch-fragments",
            List.of("--experimental-watch-progress-notify-interval", "1s"));
         V3Server kvd = KvdV3Server.start("watch-fragments", b -> b.watchProgressNotifyIntervalMs(1000))) {
      var wantF = CompletableFuture.supplyAsync(() -> session(etcd));
      var gotF = CompletableFuture.supplyAsync(() -> session(kvd));
      List<String> want = wantF.join();
      List<String> got = gotF.join();
      assertThat(got).as("kvd's watch responses by shape; etcd's were %s", want).isEqualTo(want);
      // the session really exercised both features
      assertThat(want).contains("fragment: 10 events, fragment=true", "fragment: 2 events, fragment=false",
          "whole: 12 events, fragment=false", "progress: no events, at the current revision");
    }
  }

  /** What one server answers, each response reduced to its shape. */
  private static List<String> session(V3Server s) {
    ManagedChannel ch = NettyChannelBuilder.forAddress(s.clientUrl().getHost(), s.clientUrl().getPort())
        .usePlaintext().maxInboundMessageSize(64 << 20).build();
    try {
      var kv = KVGrpc.newBlockingStub(ch).withDeadlineAfter(60, TimeUnit.SECONDS);
      long first = 0;
      byte[] value = new byte[VALUE_BYTES];
      java.util.Arrays.fill(value, (byte) 'x');
      for (int i = 0; i < KEYS; i++) {
        long rev = kv.put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("f/k" + i))
            .setValue(ByteString.copyFrom(value)).build()).getHeader().getRevision();
        first = first == 0 ? rev : first;
      }
      List<String> shapes = new ArrayList<>();
      shapes.addAll(catchUp(ch, first, true, "fragment"));
      shapes.addAll(catchUp(ch, first, false, "whole"));
      shapes.addAll(progress(ch, kv));
      return shapes;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } finally {
      ch.shutdownNow();
    }
  }

  /** A watch over f/ from {@code from}: its responses until all {@link #KEYS} events came. */
  private static List<String> catchUp(ManagedChannel ch, long from, boolean fragment, String label)
      throws InterruptedException {
    Watch w = new Watch(ch);
    w.send(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
        .setKey(ByteString.copyFromUtf8("f/")).setRangeEnd(ByteString.copyFromUtf8("f0"))
        .setStartRevision(from).setFragment(fragment)).build());
    List<String> shapes = new ArrayList<>();
    int events = 0;
    while (events < KEYS) {
      WatchResponse r = w.next(30);
      if (r.getCreated()) {
        shapes.add(label + ": created");
        continue;
      }
      events += r.getEventsCount();
      shapes.add(label + ": " + r.getEventsCount() + " events, fragment=" + r.getFragment());
    }
    w.close();
    return shapes;
  }

  /** A watch with progress_notify on a quiet key: a progress response, then an event, then progress again. */
  private static List<String> progress(ManagedChannel ch, KVGrpc.KVBlockingStub kv) throws InterruptedException {
    Watch w = new Watch(ch);
    w.send(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
        .setKey(ByteString.copyFromUtf8("quiet")).setProgressNotify(true)).build());
    List<String> shapes = new ArrayList<>();
    WatchResponse created = w.next(10);
    shapes.add("progress watch: created=" + created.getCreated());
    WatchResponse p = w.next(10); // at most two intervals of quiet
    long now = kv.put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("other")).build()).getHeader().getRevision() - 1;
    shapes.add("progress: " + (p.getEventsCount() == 0 ? "no events" : p.getEventsCount() + " events")
        + (p.getHeader().getRevision() == now ? ", at the current revision" : ", at revision "
        + p.getHeader().getRevision() + " (current " + now + ")") + (p.getWatchId() == created.getWatchId() ? "" : ", other watch id"));
    long put = kv.put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("quiet")).build()).getHeader().getRevision();
    WatchResponse next = w.next(10);
    while (next.getEventsCount() == 0) { // a tick may have fallen between the two puts
      next = w.next(10);
    }
    shapes.add("then: " + next.getEventsCount() + " event at the put's revision " + (next.getHeader().getRevision() == put));
    WatchResponse again = w.next(10);
    shapes.add("progress again: " + again.getEventsCount() + " events, revision " + (again.getHeader().getRevision() == put));
    w.close();
    return shapes;
  }

  /** One watch stream with its responses queued. */
  private static final class Watch {
    private final LinkedBlockingQueue<Object> responses = new LinkedBlockingQueue<>();
    private final StreamObserver<WatchRequest> requests;

    Watch(ManagedChannel ch) {
      requests = WatchGrpc.newStub(ch).watch(new StreamObserver<>() {
        @Override
        public void onNext(WatchResponse r) {
          responses.add(r);
        }

        @Override
        public void onError(Throwable t) {
          responses.add(t);
        }

        @Override
        public void onCompleted() {
          responses.add(new IllegalStateException("the watch stream ended"));
        }
      });
    }

    void send(WatchRequest r) {
      requests.onNext(r);
    }

    WatchResponse next(int seconds) throws InterruptedException {
      Object o = responses.poll(seconds, TimeUnit.SECONDS);
      if (o instanceof WatchResponse r) {
        return r;
      }
      throw new AssertionError("no watch response within " + seconds + " s" + (o == null ? "" : ": " + o));
    }

    void close() {
      requests.onCompleted();
    }
  }
}
