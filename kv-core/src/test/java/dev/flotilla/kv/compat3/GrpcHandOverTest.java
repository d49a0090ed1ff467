package dev.flotilla.kv.compat3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A plaintext gRPC connection on the client port is served by the gRPC server itself (handed over
 * on epoll), not relayed over a second, loopback connection: each client connection costs the
 * member one socket, not three (accepted, relay to gRPC, gRPC's accepted end of it).
 */
class GrpcHandOverTest {
  private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  /** An empty SETTINGS frame: length 0, type 4, no flags, stream 0. */
  private static final byte[] SETTINGS = {0, 0, 0, 4, 0, 0, 0, 0, 0};

  @Test
  @Timeout(60)
  void grpcConnectionsTakeOneSocketEachInTheMember() throws Exception {
    assumeTrue(io.netty.channel.epoll.Epoll.isAvailable(), "the hand-over needs epoll (Linux)");
    try (KvdV3Server kvd = KvdV3Server.start("kvd")) {
      var url = kvd.clientUrl();
      int before = sockets();
      List<Socket> clients = new ArrayList<>();
      try {
        for (int i = 0; i < 5; i++) {
          Socket s = new Socket(url.getHost(), url.getPort());
          s.setTcpNoDelay(true);
          clients.add(s);
          OutputStream out = s.getOutputStream();
          // the detector decides on three bytes: some connections send those alone first
          int split = i % 2 == 0 ? 3 : PREFACE.length;
          out.write(PREFACE, 0, split);
          out.flush();
          out.write(PREFACE, split, PREFACE.length - split);
          out.write(SETTINGS);
          out.flush();
          // gRPC's server speaks HTTP/2 back: its SETTINGS frame first
          byte[] frame = new byte[9];
          new DataInputStream(s.getInputStream()).readFully(frame);
          assertThat(frame[3]).as("frame type of the server's first frame (4: SETTINGS)").isEqualTo((byte) 4);
        }
        // 5 client ends in this JVM plus, in the member, 5 (handed over) or 15 (relayed)
        assertThat(sockets() - before).as("new sockets for 5 gRPC connections").isEqualTo(10);
      } finally {
        for (Socket s : clients) {
          s.close();
        }
      }
    }
  }

  /** Sockets this process has open. */
  private static int sockets() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return (int) fds.filter(p -> {
        try {
          return Files.readSymbolicLink(p).toString().startsWith("socket:");
        } catch (IOException e) {
          return false; // closed while listed
        }
      }).count();
    }
  }
}
