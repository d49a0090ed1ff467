package dev.flotilla.kv.api.v2;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flotilla.kv.embed.EmbeddedKv;
import dev.flotilla.kv.embed.KvConfig;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input gets an etcd-shaped error or a clean close, and changes nothing. */
class BadInputTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path tmp;
  private EmbeddedKv kv;
  private URI base;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    kv = EmbeddedKv.start(KvConfig.builder(tmp).listenClientUrl("http://127.0.0.1:0")
        .maxRequestBytes(64 * 1024).build());
    base = kv.clientUrls().get(0);
    put("/seed", "value=1");
  }

  @AfterEach
  void stop() {
    kv.close();
  }

  private HttpResponse<String> put(String key, String form) throws Exception {
    return http.send(HttpRequest.newBuilder(base.resolve("/v2/keys" + key))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .PUT(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(String pathAndQuery) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(base + pathAndQuery)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private long index() throws Exception {
    return Long.parseLong(get("/v2/keys/seed").headers().firstValue("X-Etcd-Index").orElseThrow());
  }

  private static void assertEtcdError(HttpResponse<String> r, int status, int code, String cause)
      throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    JsonNode j = JSON.readTree(r.body());
    assertThat(j.get("errorCode").asInt()).isEqualTo(code);
    assertThat(j.get("message").asText()).isNotEmpty();
    if (cause != null) {
      assertThat(j.get("cause").asText()).isEqualTo(cause);
    }
    assertThat(j.has("index")).isTrue();
  }

  @Test
  void malformedFormBodiesAreRefusedWithoutChange() throws Exception {
    long before = index();
    assertEtcdError(put("/x", "value=%zz"), 400, 210, "invalid URL escape \"%zz\"");
    assertEtcdError(put("/x", "value=1;ttl=2"), 400, 210, "invalid semicolon separator in query");
    assertEtcdError(put("/x", "value=1&ttl=abc"), 400, 202, "invalid value for \"ttl\"");
    assertEtcdError(put("/x", "value=1&prevIndex=-1"), 400, 203, "invalid value for \"prevIndex\"");
    assertEtcdError(put("/x", "value=1&dir=maybe"), 400, 209, "invalid value for \"dir\"");
    assertEtcdError(put("/x", "value=1&prevValue="), 400, 201, "\"prevValue\" cannot be empty");
    assertEtcdError(put("/x", "refresh=true"), 400, 212, "No TTL value set");
    assertEtcdError(put("/x", "value=1&refresh=true&ttl=5"), 400, 211, "A value was provided on a refresh");
    assertThat(index()).isEqualTo(before);
    assertThat(get("/v2/keys/x").statusCode()).isEqualTo(404);
  }

  @Test
  void unknownParametersAreIgnoredAsEtcdDoes() throws Exception {
    var r = put("/x", "value=1&bogus=2&another");
    assertThat(r.statusCode()).isEqualTo(201);
    assertThat(JSON.readTree(get("/v2/keys/x").body()).at("/node/value").asText()).isEqualTo("1");
  }

  @Test
  void valuesOverTheRequestLimitAreRefused() throws Exception {
    long before = index();
    var r = put("/big", "value=" + "a".repeat(64 * 1024 + 1));
    assertEtcdError(r, 413, 300, "etcdserver: request is too large");
    assertThat(index()).isEqualTo(before);
    assertThat(get("/v2/keys/big").statusCode()).isEqualTo(404);
    // a body beyond what any form may be is cut off at the HTTP layer: an etcd-shaped error,
    // or, when the server closes while the client is still sending, a clean close
    try {
      var huge = put("/big", "value=" + "a".repeat(11 << 20));
      assertEtcdError(huge, 400, 210, "http: POST too large");
    } catch (java.io.IOException closedWhileSending) {
      // the clean close the issue allows; the state check below is what matters
    }
    assertThat(index()).isEqualTo(before);
    assertThat(get("/v2/keys/big").statusCode()).isEqualTo(404);
  }

  @Test
  void pathBytesThatAreNotUtf8AreKeptExactly() throws Exception {
    assertThat(put("/bin%ff", "value=ff").statusCode()).isEqualTo(201);
    assertThat(get("/v2/keys/bin%fe").statusCode()).isEqualTo(404);
    var r = get("/v2/keys/bin%ff");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(r.body()).at("/node/key").asText()).isEqualTo("/bin\uFFFD");
  }

  @Test
  void aClientLeavingMidWatchLeavesNothingBehind() throws Exception {
    var hub = kvHub();
    for (int i = 0; i < 20; i++) {
      try (Socket s = new Socket(base.getHost(), base.getPort())) {
        OutputStream out = s.getOutputStream();
        out.write(("GET /v2/keys/watched?wait=true HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        byte[] buf = new byte[512];
        int n = in.read(buf);
        assertThat(new String(buf, 0, n, StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 200 OK");
      }
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (hub.watcherCount() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(hub.watcherCount()).isZero();
    assertThat(put("/watched", "value=still-fine").statusCode()).isEqualTo(201);
  }

  @Test
  void garbageOnTheWireGetsA400AndAClose() throws Exception {
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.getOutputStream().write("NOT HTTP AT ALL\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      assertThat(answer).startsWith("HTTP/1.1 400");
    }
    assertThat(get("/v2/keys/seed").statusCode()).isEqualTo(200);
  }

  private dev.flotilla.kv.v2.V2WatcherHub kvHub() throws Exception {
    var f = EmbeddedKv.class.getDeclaredField("member");
    f.setAccessible(true);
    return ((dev.flotilla.kv.server.StoreMember) f.get(kv)).machine().v2Watchers();
  }
}
