package dev.flotilla.kv.api.v2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.kv.embed.EmbeddedKv;
import dev.flotilla.kv.embed.KvConfig;
import dev.flotilla.kv.server.LoopShare;
import dev.flotilla.proto.etcd.etcdserverpb.MaintenanceGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.StatusRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a new client connection costs the member: no thread of its own, no event loop beyond its share. */
class ConnectionCostTest {
  @TempDir Path tmp;

  private static long httpClientThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith("HttpClient-") && t.getName().endsWith("-SelectorManager")).count();
  }

  @Test
  void aConnectionStartsNoHttpClient() throws Exception {
    try (EmbeddedKv kv = EmbeddedKv.start(KvConfig.builder(tmp).listenClientUrl("http://127.0.0.1:0").build())) {
      URI base = kv.clientUrls().get(0);
      long before = httpClientThreads();
      for (int i = 0; i < 20; i++) {
        try (Socket s = new Socket(base.getHost(), base.getPort())) {
          OutputStream out = s.getOutputStream();
          out.write("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          out.flush();
          InputStream in = s.getInputStream();
          String answer = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
          assertThat(answer).startsWith("HTTP/1.1 200");
        }
      }
      // each connection's handler used to build a java.net.http.HttpClient (a selector thread each)
      // for passing membership changes on to the leader
      assertThat(httpClientThreads() - before).isLessThanOrEqualTo(0);
    }
  }

  private static Set<String> grpcServerLoops() {
    return Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
        .filter(n -> n.startsWith("grpc-default-worker-ELG-")).collect(Collectors.toSet());
  }

  /**
   * gRPC connections (handed over from the client port) are served by the member's share of the
   * cores in event loops, not by gRPC's default of twice the cores: more connections than that
   * start no more loops.
   */
  @Test
  void grpcConnectionsShareTheMembersLoops() throws Exception {
    int share = LoopShare.forMember("").count();
    NioEventLoopGroup clientLoops = new NioEventLoopGroup(1, new DefaultThreadFactory("test-grpc-client", true));
    List<ManagedChannel> channels = new ArrayList<>();
    try (EmbeddedKv kv = EmbeddedKv.start(KvConfig.builder(tmp).listenClientUrl("http://127.0.0.1:0").build())) {
      URI base = kv.clientUrls().get(0);
      Set<String> before = grpcServerLoops();
      int cores = Runtime.getRuntime().availableProcessors();
      for (int i = 0; i < 2 * cores + 2; i++) { // gRPC's default would start a loop for each of the first 2 x cores
        ManagedChannel ch = NettyChannelBuilder.forAddress(base.getHost(), base.getPort()).usePlaintext()
            .eventLoopGroup(clientLoops).channelType(NioSocketChannel.class).build();
        channels.add(ch);
        assertThat(MaintenanceGrpc.newBlockingStub(ch).status(StatusRequest.getDefaultInstance()).getVersion()).isNotEmpty();
      }
      Set<String> started = grpcServerLoops();
      started.removeAll(before);
      assertThat(started).hasSizeLessThanOrEqualTo(share);
    } finally {
      for (ManagedChannel ch : channels) {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      clientLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }
}
