package dev.flotilla.raft.transport;

import static dev.flotilla.raft.testkit.Eventually.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.raft.core.Message;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PeerSenderTest {

  /**
   * A call that fails inside its own start (here: its channel is shut down, and the failure comes on
   * a direct executor, so on the starting thread) must not be kept as the live stream: the peer is
   * reported unreachable and messages to it are dropped, not queued behind a stream that never
   * becomes ready. Before, the sender installed such a call after its failure had been ignored as
   * "not current", and the peer stayed silent forever.
   */
  @Test
  void aStreamThatFailsWhileStartingIsNotKeptAsTheLiveOne() throws Exception {
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", 9).usePlaintext().directExecutor().build();
    channel.shutdownNow();
    AtomicInteger unreachable = new AtomicInteger();
    Transport.Handler handler = new Transport.Handler() {
      @Override
      public void receive(Message message) {}

      @Override
      public void unreachable(long peer) {
        unreachable.incrementAndGet();
      }

      @Override
      public void snapshotStatus(long peer, boolean delivered) {}
    };
    TransportStats.Counters counters = new TransportStats.Counters();
    PeerSender sender = new PeerSender(1, 2, "127.0.0.1:9", channel, GrpcTransportOptions.defaults(), handler, counters);
    sender.start();
    try {
      sender.send(List.of(new Message.Heartbeat(1, 2, 1, 0, new byte[0])));
      await(Duration.ofSeconds(5), "the peer reported unreachable", () -> unreachable.get() > 0);
      assertThat(counters.messagesDropped.get()).as("the heartbeat found no live stream").isEqualTo(1);
      assertThat(counters.messagesSent.get()).isZero();
    } finally {
      sender.close();
    }
  }
}
