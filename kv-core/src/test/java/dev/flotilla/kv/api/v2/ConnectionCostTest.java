package dev.flotilla.kv.api.v2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.kv.embed.EmbeddedKv;
import dev.flotilla.kv.embed.KvConfig;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a new client connection costs the member: no thread of its own. */
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
}
