package dev.flotilla.raft.transport;

import static dev.flotilla.raft.testkit.Eventually.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.flotilla.proto.raft.RaftPeerGrpc;
import dev.flotilla.proto.raft.SnapshotChunk;
import dev.flotilla.proto.raft.SnapshotReceipt;
import dev.flotilla.raft.core.ConfState;
import dev.flotilla.raft.core.Entry;
import dev.flotilla.raft.core.Message;
import dev.flotilla.raft.core.Snapshot;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GrpcTransportTest {

  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final InetSocketAddress ANY_PORT = new InetSocketAddress("127.0.0.1", 0);

  private final List<AutoCloseable> open = new ArrayList<>();

  /** Records what a transport tells its member; optionally holds up delivery. */
  static final class Recorder implements Transport.Handler {
    final ConcurrentLinkedQueue<Message> received = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Long> unreachable = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<String> snapshotStatus = new ConcurrentLinkedQueue<>();
    final Set<String> receivingThreads = ConcurrentHashMap.newKeySet();
    volatile CountDownLatch gate;

    @Override
    public void receive(Message message) {
      CountDownLatch g = gate;
      if (g != null) {
        try {
          g.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      receivingThreads.add(Thread.currentThread().getName());
      received.add(message);
    }

    @Override
    public void unreachable(long peer) {
      unreachable.add(peer);
    }

    @Override
    public void snapshotStatus(long peer, boolean delivered) {
      snapshotStatus.add(peer + ":" + delivered);
    }

    /** Commit indexes of the heartbeats received, connection markers (commit 0) left out. */
    List<Long> heartbeatCommits() {
      List<Long> out = new ArrayList<>();
      for (Message m : received) {
        if (m instanceof Message.Heartbeat h && h.commit() > 0) {
          out.add(h.commit());
        }
      }
      return out;
    }
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private GrpcTransport start(long id, int port, Map<Long, String> peers, Recorder handler, GrpcTransportOptions options)
      throws IOException {
    GrpcTransport t = GrpcTransport.start(id, new InetSocketAddress("127.0.0.1", port), peers, handler, options);
    open.add(t);
    return t;
  }

  private static String at(GrpcTransport t) {
    return "127.0.0.1:" + t.port();
  }

  private static Message heartbeat(long from, long to, long commit) {
    return new Message.Heartbeat(from, to, 1, commit, null);
  }

  private static List<Long> range(long from, long to) {
    List<Long> out = new ArrayList<>();
    for (long i = from; i <= to; i++) {
      out.add(i);
    }
    return out;
  }

  @Test
  void threeMembersExchangeMessagesInOrderBothWays() throws IOException {
    Recorder[] handlers = {new Recorder(), new Recorder(), new Recorder()};
    GrpcTransport[] t = new GrpcTransport[3];
    for (int i = 0; i < 3; i++) {
      t[i] = start(i + 1, 0, Map.of(), handlers[i], GrpcTransportOptions.defaults());
    }
    connectAll(t, handlers);
    for (Recorder h : handlers) {
      h.received.clear();
    }
    long droppedBefore = t[0].stats().messagesDropped(); // markers sent while a stream was in backoff
    for (long c = 1; c <= 200; c++) {
      t[0].send(List.of(heartbeat(1, 2, c), heartbeat(1, 3, c)));
      t[1].send(List.of(heartbeat(2, 1, c)));
    }
    Message.AppendEntries append = new Message.AppendEntries(3, 1, 2, 5, 1,
        List.of(Entry.normal(6, 2, "x".getBytes()), new Entry(7, 2, Entry.Type.CONF_CHANGE, new byte[9])), 6);
    t[2].send(List.of(append));
    // (markers still in flight from connect() may arrive after the clear: they carry commit 0)
    await(WAIT, "all messages", () -> handlers[1].heartbeatCommits().size() == 200
        && handlers[2].heartbeatCommits().size() == 200 && handlers[0].heartbeatCommits().size() == 200
        && handlers[0].received.stream().anyMatch(m -> m instanceof Message.AppendEntries));
    assertThat(handlers[1].heartbeatCommits()).isEqualTo(range(1, 200));
    assertThat(handlers[2].heartbeatCommits()).isEqualTo(range(1, 200));
    assertThat(handlers[0].heartbeatCommits()).isEqualTo(range(1, 200));
    assertThat(handlers[0].received).filteredOn(m -> m instanceof Message.AppendEntries).singleElement()
        .usingRecursiveComparison().isEqualTo(append);
    assertThat(t[0].stats().messagesDropped()).isEqualTo(droppedBefore);
  }

  /**
   * With {@code eventLoops} set, a transport reads its peers' streams on loops of its own, as many
   * as asked, whatever the number of connections (a member sharing a host's cores with others takes
   * its share only), and stops them when it closes.
   */
  @Test
  void aTransportWithItsOwnLoopsServesEveryPeerConnectionOnThemAndStopsThemOnClose() throws Exception {
    Recorder[] handlers = {new Recorder(), new Recorder(), new Recorder()};
    GrpcTransport[] t = new GrpcTransport[3];
    for (int i = 0; i < 3; i++) {
      t[i] = start(i + 1, 0, Map.of(), handlers[i], GrpcTransportOptions.defaults().withEventLoops(1));
    }
    connectAll(t, handlers);
    for (int i = 0; i < 3; i++) {
      // two inbound connections (one from each peer), both read by this member's single loop
      assertThat(handlers[i].receivingThreads).singleElement().asString().startsWith("raft-peer-loop-" + (i + 1) + "-");
      assertThat(threadsNamed("raft-peer-loop-" + (i + 1) + "-")).hasSize(1);
    }
    for (GrpcTransport each : t) {
      each.close();
    }
    await(WAIT, "the transports' loops to stop", () -> threadsNamed("raft-peer-loop-").isEmpty());
  }

  private static List<String> threadsNamed(String prefix) {
    return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
        .filter(n -> n.startsWith(prefix)).toList();
  }

  @Test
  void eventLoopsMustNotBeNegative() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> GrpcTransportOptions.defaults().withEventLoops(-1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("eventLoops must be >= 0");
  }

  /** Makes every transport of {@code t} a peer of every other and waits until each stream is up. */
  private static void connectAll(GrpcTransport[] t, Recorder[] handlers) {
    for (int i = 0; i < t.length; i++) {
      for (int j = 0; j < t.length; j++) {
        if (i != j) {
          t[i].addPeer(j + 1, at(t[j]));
        }
      }
    }
    // a stream opened before the other side knew us was refused and is in backoff: wait until all are up
    for (int i = 0; i < t.length; i++) {
      for (int j = 0; j < t.length; j++) {
        if (i != j) {
          connect(t[i], j + 1, handlers[j]);
        }
      }
    }
  }

  /** Sends a marker (a heartbeat with commit 0) until it arrives. */
  private static void connect(GrpcTransport from, long to, Recorder receiver) {
    await(WAIT, "a stream from " + from.self() + " to " + to, () -> {
      from.send(List.of(heartbeat(from.self(), to, 0)));
      return receiver.received.stream().anyMatch(m -> m.from() == from.self());
    });
  }

  /**
   * On an idle stream, one send's messages to a peer go out as one frame before send returns, on the
   * caller's thread (the Raft loop): no hand-off to the peer's sender thread. Messages to two peers
   * in one call are split by peer, each peer's in order.
   */
  @Test
  void anIdleStreamTakesOneSendAsOneFrameOnTheCallersThread() throws IOException {
    Recorder a = new Recorder();
    Recorder b = new Recorder();
    Recorder c = new Recorder();
    GrpcTransport tb = start(2, 0, Map.of(1L, "127.0.0.1:1"), b, GrpcTransportOptions.defaults());
    GrpcTransport tc = start(3, 0, Map.of(1L, "127.0.0.1:1"), c, GrpcTransportOptions.defaults());
    GrpcTransport ta = start(1, 0, Map.of(2L, at(tb), 3L, at(tc)), a, GrpcTransportOptions.defaults());
    connect(ta, 2, b);
    connect(ta, 3, c);
    await(WAIT, "the markers' frames written", () -> ta.stats().messagesSent() == b.received.size() + c.received.size());
    for (int round = 1; round <= 20; round++) {
      TransportStats before = ta.stats();
      ta.send(List.of(heartbeat(1, 2, 3 * round - 2), heartbeat(1, 3, round), heartbeat(1, 2, 3 * round - 1),
          heartbeat(1, 2, 3 * round)));
      TransportStats after = ta.stats();
      assertThat(after.batchesSent() - before.batchesSent()).as("frames written by send itself, round %d", round)
          .isEqualTo(2);
      assertThat(after.messagesSent() - before.messagesSent()).isEqualTo(4);
    }
    await(WAIT, "all heartbeats", () -> b.heartbeatCommits().size() == 60 && c.heartbeatCommits().size() == 20);
    assertThat(b.heartbeatCommits()).isEqualTo(range(1, 60));
    assertThat(c.heartbeatCommits()).isEqualTo(range(1, 20));
    assertThat(ta.stats().messagesDropped()).isZero();
  }

  @Test
  void messagesQueuedWhileTheStreamIsBusyTravelTogether() throws IOException {
    Recorder a = new Recorder();
    Recorder b = new Recorder();
    GrpcTransport tb = start(2, 0, Map.of(1L, "127.0.0.1:1"), b, GrpcTransportOptions.defaults());
    GrpcTransport ta = start(1, 0, Map.of(2L, at(tb)), a, GrpcTransportOptions.defaults());
    // warm up the stream, then stall the receiver: flow control fills, and sends pile up
    ta.send(List.of(heartbeat(1, 2, 0)));
    await(WAIT, "first message", () -> b.received.size() == 1);
    b.gate = new CountDownLatch(1);
    byte[] payload = new byte[16 << 10];
    int n = 400;
    for (int i = 1; i <= n; i++) {
      ta.send(List.of(new Message.AppendEntries(1, 2, 1, i - 1, 1, List.of(Entry.normal(i, 1, payload)), 0)));
    }
    b.gate.countDown();
    await(WAIT, "all appends", () -> b.received.size() == n + 1);
    List<Long> prevIndexes = new ArrayList<>();
    b.received.stream().skip(1).forEach(m -> prevIndexes.add(((Message.AppendEntries) m).prevIndex()));
    assertThat(prevIndexes).isEqualTo(range(0, n - 1));
    TransportStats sent = ta.stats();
    assertThat(sent.messagesSent()).isEqualTo(n + 1);
    assertThat(sent.messagesDropped()).isZero();
    // 6.4 MB against HTTP/2 windows of ~1 MiB: most messages waited in the queue and went in groups
    assertThat(sent.batchesSent()).as("batches for %d messages", n + 1).isLessThan(n / 2);
    assertThat(tb.stats().batchesReceived()).isEqualTo(sent.batchesSent());
  }

  @Test
  void aFullQueueDropsAndReportsThePeerUnreachable() throws IOException {
    Recorder a = new Recorder();
    Recorder b = new Recorder();
    GrpcTransport tb = start(2, 0, Map.of(1L, "127.0.0.1:1"), b, GrpcTransportOptions.defaults());
    GrpcTransport ta = start(1, 0, Map.of(2L, at(tb)), a, GrpcTransportOptions.defaults().withQueueMessages(8));
    ta.send(List.of(heartbeat(1, 2, 0)));
    await(WAIT, "first message", () -> b.received.size() == 1);
    b.gate = new CountDownLatch(1);
    byte[] payload = new byte[64 << 10];
    for (int i = 1; i <= 200; i++) {
      ta.send(List.of(new Message.AppendEntries(1, 2, 1, i, 1, List.of(Entry.normal(i + 1, 1, payload)), 0)));
    }
    await(WAIT, "an unreachable report", () -> !a.unreachable.isEmpty());
    assertThat(a.unreachable).containsOnly(2L);
    assertThat(ta.stats().messagesDropped()).isPositive();
    b.gate.countDown();
    // what was not dropped still arrives, in order
    await(WAIT, "the rest", () -> b.received.size() == 1 + ta.stats().messagesSent() - 1);
    List<Long> prev = new ArrayList<>();
    b.received.stream().skip(1).forEach(m -> prev.add(((Message.AppendEntries) m).prevIndex()));
    assertThat(prev).isSorted().doesNotHaveDuplicates();
  }

  @Test
  void aPeerThatRestartsIsReconnected() throws IOException {
    Recorder a = new Recorder();
    Recorder b1 = new Recorder();
    GrpcTransport tb = start(2, 0, Map.of(1L, "127.0.0.1:1"), b1, GrpcTransportOptions.defaults());
    int port = tb.port();
    GrpcTransport ta = start(1, 0, Map.of(2L, "127.0.0.1:" + port), a, GrpcTransportOptions.defaults());
    ta.send(List.of(heartbeat(1, 2, 1)));
    await(WAIT, "before the restart", () -> b1.received.size() == 1);

    tb.close();
    // while it is down, sends are dropped and reported
    long[] c = {100};
    await(WAIT, "an unreachable report", () -> {
      ta.send(List.of(heartbeat(1, 2, c[0]++)));
      return a.unreachable.contains(2L);
    });

    Recorder b2 = new Recorder();
    start(2, port, Map.of(1L, "127.0.0.1:1"), b2, GrpcTransportOptions.defaults());
    await(WAIT, "a message through the new stream", () -> {
      ta.send(List.of(heartbeat(1, 2, c[0]++)));
      return !b2.received.isEmpty();
    });
    assertThat(b2.heartbeatCommits()).isSorted().allMatch(x -> x >= 100);
  }

  @Test
  void aSnapshotOfSeveralMegabytesGoesInChunksAndArrivesWhole() throws IOException {
    Recorder a = new Recorder();
    Recorder b = new Recorder();
    // the receiver takes frames of at most 1 MiB: a 5 MB snapshot can only pass in chunks
    GrpcTransportOptions small = GrpcTransportOptions.defaults().withMaxBatchBytes(256 << 10)
        .withSnapshotChunkBytes(256 << 10).withMaxInboundBytes(1 << 20);
    GrpcTransport tb = start(2, 0, Map.of(1L, "127.0.0.1:1"), b, small);
    GrpcTransport ta = start(1, 0, Map.of(2L, at(tb)), a, small);
    byte[] data = new byte[5_000_000];
    new Random(42).nextBytes(data);
    Snapshot snap = new Snapshot(1000, 4, ConfState.ofVoters(1, 2, 3), data);
    ta.send(List.of(new Message.InstallSnapshot(1, 2, 4, snap), heartbeat(1, 2, 9)));
    await(WAIT, "the snapshot", () -> b.received.stream().anyMatch(m -> m instanceof Message.InstallSnapshot));
    Message.InstallSnapshot got = (Message.InstallSnapshot) b.received.stream()
        .filter(m -> m instanceof Message.InstallSnapshot).findFirst().orElseThrow();
    assertThat(got.from()).isEqualTo(1);
    assertThat(got.term()).isEqualTo(4);
    assertThat(got.snapshot().index()).isEqualTo(1000);
    assertThat(got.snapshot().confState()).isEqualTo(ConfState.ofVoters(1, 2, 3));
    assertThat(got.snapshot().data()).isEqualTo(data);
    await(WAIT, "the sender's report", () -> a.snapshotStatus.contains("2:true"));
    assertThat(tb.stats().snapshotsReceived()).isEqualTo(1);
    assertThat(b.heartbeatCommits()).containsExactly(9L);
  }

  @Test
  void aSnapshotWhoseBytesDoNotMatchItsChecksumIsRefused() throws Exception {
    Recorder b = new Recorder();
    GrpcTransport tb = start(2, 0, Map.of(1L, "127.0.0.1:1"), b, GrpcTransportOptions.defaults());
    Message header = new Message.InstallSnapshot(1, 2, 4, new Snapshot(10, 4, ConfState.ofVoters(1, 2), new byte[0]));
    Status status = rawSnapshot(tb, 1, List.of(
        SnapshotChunk.newBuilder().setHeader(MessageCodec.encode(header)).setTotalBytes(6).setCrc32C(12345)
            .setData(ByteString.copyFromUtf8("abc")).build(),
        SnapshotChunk.newBuilder().setData(ByteString.copyFromUtf8("def")).build()));
    assertThat(status.getCode()).isEqualTo(Status.Code.DATA_LOSS);
    assertThat(status.getDescription()).contains("CRC32C");
    Status shortOne = rawSnapshot(tb, 1, List.of(
        SnapshotChunk.newBuilder().setHeader(MessageCodec.encode(header)).setTotalBytes(6).setCrc32C(0)
            .setData(ByteString.copyFromUtf8("abc")).build()));
    assertThat(shortOne.getCode()).isEqualTo(Status.Code.DATA_LOSS);
    assertThat(shortOne.getDescription()).contains("after 3 of 6 bytes");
    assertThat(b.received).isEmpty();
    assertThat(tb.stats().snapshotsRejected()).isEqualTo(2);
  }

  /** Sends chunks as member {@code from} with a bare stub; returns how the call ended. */
  private static Status rawSnapshot(GrpcTransport to, long from, List<SnapshotChunk> chunks) throws Exception {
    ManagedChannel channel = NettyChannelBuilder.forTarget(at(to)).usePlaintext().build();
    try {
      Metadata headers = new Metadata();
      headers.put(PeerService.FROM, Long.toString(from));
      headers.put(PeerService.TO, Long.toString(to.self()));
      CompletableFuture<Status> done = new CompletableFuture<>();
      StreamObserver<SnapshotChunk> call = RaftPeerGrpc.newStub(channel)
          .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
          .sendSnapshot(new StreamObserver<>() {
            @Override
            public void onNext(SnapshotReceipt value) {}

            @Override
            public void onError(Throwable t) {
              done.complete(Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
              done.complete(Status.OK);
            }
          });
      chunks.forEach(call::onNext);
      call.onCompleted();
      return done.get(20, TimeUnit.SECONDS);
    } finally {
      channel.shutdownNow();
    }
  }

  @Test
  void aMemberOutsideThePeerSetIsRefusedAndARemovedOneIsCutOff() throws IOException {
    Recorder a = new Recorder();
    Recorder b = new Recorder();
    Recorder c = new Recorder();
    GrpcTransport tb = start(2, 0, Map.of(1L, "127.0.0.1:1"), b, GrpcTransportOptions.defaults());
    GrpcTransport ta = start(1, 0, Map.of(2L, at(tb)), a, GrpcTransportOptions.defaults());
    // member 3 knows member 2, but member 2 does not know member 3
    GrpcTransport tc = start(3, 0, Map.of(2L, at(tb)), c, GrpcTransportOptions.defaults());
    tc.send(List.of(heartbeat(3, 2, 1)));
    await(WAIT, "member 3's stream refused", () -> tb.stats().callsRefused() >= 1);
    await(WAIT, "member 3 told its peer is unreachable", () -> c.unreachable.contains(2L));

    ta.send(List.of(heartbeat(1, 2, 1)));
    await(WAIT, "member 1's message", () -> b.received.size() == 1);
    assertThat(b.received).allMatch(m -> m.from() == 1);

    long refusedBefore = tb.stats().callsRefused();
    tb.removePeer(1);
    await(WAIT, "the open stream from member 1 cut", () -> tb.stats().callsRefused() > refusedBefore);
    for (int i = 0; i < 20; i++) {
      ta.send(List.of(heartbeat(1, 2, 100 + i)));
      tc.send(List.of(heartbeat(3, 2, 100 + i)));
    }
    await(WAIT, "member 1 told its peer is unreachable", () -> a.unreachable.contains(2L));
    assertThat(b.heartbeatCommits()).containsExactly(1L);
  }

  @Test
  void aCallerClaimingAnotherMembersMessagesOrReachingTheWrongMemberIsRefused() throws Exception {
    Recorder b = new Recorder();
    GrpcTransport tb = start(2, 0, Map.of(1L, "127.0.0.1:1", 3L, "127.0.0.1:1"), b, GrpcTransportOptions.defaults());
    // member 3 forging a message from member 1
    Message forged = new Message.InstallSnapshot(1, 2, 4, new Snapshot(10, 4, ConfState.ofVoters(1, 2), new byte[0]));
    Status status = rawSnapshot(tb, 3, List.of(
        SnapshotChunk.newBuilder().setHeader(MessageCodec.encode(forged)).setTotalBytes(0).build()));
    assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(status.getDescription()).contains("member 3 sent a message claiming to be from member 1");
    // member 1 dialling member 2's address while believing it is member 4
    Recorder a = new Recorder();
    GrpcTransport ta = start(1, 0, Map.of(4L, at(tb)), a, GrpcTransportOptions.defaults());
    ta.send(List.of(heartbeat(1, 4, 1)));
    await(WAIT, "the misdirected stream refused", () -> a.unreachable.contains(4L) && tb.stats().callsRefused() >= 1);
    assertThat(b.received).isEmpty();
  }
}
