package dev.flotilla.kv.api.v2;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flotilla.kv.embed.EmbeddedKv;
import dev.flotilla.kv.embed.KvConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Plain GETs served from the rendered-answer cache ({@link V2ReadCache}) answer byte for byte as
 * a fresh read does, only the answers that are a function of the store's state are reused, and a
 * write, a delete or an expiry is seen by the next GET.
 */
class V2ReadCacheHttpTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern HITS = Pattern.compile("flotilla_v2_read_cache_total\\{result=\"hit\"} (\\S+)");
  @TempDir Path tmp;
  private EmbeddedKv kv;
  private URI base;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    kv = EmbeddedKv.start(KvConfig.builder(tmp).listenClientUrl("http://127.0.0.1:0").build());
    base = kv.clientUrls().get(0);
  }

  @AfterEach
  void stop() {
    kv.close();
  }

  private HttpResponse<String> send(String method, String key, String form) throws Exception {
    return http.send(HttpRequest.newBuilder(base.resolve("/v2/keys" + key))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .method(method, HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<byte[]> get(String pathAndQuery) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(base + "/v2/keys" + pathAndQuery)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  private long hits() throws Exception {
    String text = http.send(HttpRequest.newBuilder(base.resolve("/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    Matcher m = HITS.matcher(text);
    return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
  }

  /** Everything an answer says but its Date, which is the time of each answer. */
  private static Map<String, Object> answer(HttpResponse<byte[]> r) {
    Map<String, Object> a = new TreeMap<>();
    a.put(":status", r.statusCode());
    a.put(":body", new String(r.body(), java.nio.charset.StandardCharsets.ISO_8859_1));
    r.headers().map().forEach((name, values) -> {
      if (!name.equalsIgnoreCase("date")) {
        a.put(name.toLowerCase(), values);
      }
    });
    return a;
  }

  @Test
  void aRepeatedGetAnswersAsTheFirstAndOnlyStateOnlyAnswersAreReused() throws Exception {
    send("PUT", "/a", "value=1");
    send("PUT", "/dir/x", "value=%3Cx%3E%20%26"); // characters the JSON escapes
    send("PUT", "/dir/sub/y", "value=2");
    send("PUT", "/dir/_hidden", "value=3");
    send("PUT", "/dir/_hid/z", "value=4");
    send("PUT", "/dir/empty", "dir=true");
    send("PUT", "/ttl", "value=5&ttl=100");
    send("PUT", "/tdir/k", "value=6");
    send("PUT", "/tdir/k2", "value=7&ttl=100");
    send("PUT", "/ttldir", "dir=true&ttl=100");
    // cacheable: a function of the store's state alone
    List<String> reused = List.of("/a", "/dir", "/dir?recursive=true", "/dir?sorted=true",
        "/dir?recursive=true&sorted=true", "/dir/", "/dir/_hidden", "/dir/_hid", "/dir/empty",
        "/missing", "/dir/missing/deeper");
    // not: a TTL shown (seconds left move), an error other than "Key not found", a quorum read
    List<String> renderedEachTime = List.of("/ttl", "/tdir", "/tdir?recursive=true", "", "/?recursive=true",
        "/ttldir", "/a/b", "/a?quorum=true", "/a?waitIndex=x");
    long hits = hits();
    for (String q : reused) {
      var first = get(q);
      var second = get(q);
      assertThat(answer(second)).as(q).isEqualTo(answer(first));
      assertThat(hits()).as(q).isEqualTo(++hits);
    }
    for (String q : renderedEachTime) {
      var first = get(q);
      var second = get(q);
      assertThat(second.statusCode()).as(q).isEqualTo(first.statusCode());
      assertThat(hits()).as(q).isEqualTo(hits);
    }
    assertThat(get("/missing").statusCode()).isEqualTo(404);
    assertThat(get("/a/b").statusCode()).isEqualTo(400); // 104 Not a directory, not cached
    var head = http.send(HttpRequest.newBuilder(URI.create(base + "/v2/keys/a"))
        .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofByteArray());
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
    assertThat(head.headers().firstValue("Content-Length")).isEqualTo(get("/a").headers().firstValue("Content-Length"));
  }

  @Test
  void aGetAfterAWriteADeleteOrAnExpirySeesTheNewState() throws Exception {
    send("PUT", "/d/k", "value=1");
    send("PUT", "/other", "value=1");
    assertThat(get("/d/k").statusCode()).isEqualTo(200);
    assertThat(get("/gone").statusCode()).isEqualTo(404);
    get("/d?recursive=true");
    long hits = hits();
    assertThat(value(get("/d/k"))).isEqualTo("1");
    assertThat(get("/gone").statusCode()).isEqualTo(404);
    assertThat(hits()).isEqualTo(hits + 2); // both now come from the cache

    send("PUT", "/d/k", "value=2");
    assertThat(value(get("/d/k"))).isEqualTo("2");
    send("PUT", "/gone", "value=here");
    assertThat(value(get("/gone"))).isEqualTo("here");
    send("PUT", "/other", "value=2"); // a write elsewhere changes this key's answer's index
    var again = get("/d/k");
    assertThat(again.headers().firstValue("X-Etcd-Index").orElseThrow())
        .isEqualTo(send("GET", "/other", "").headers().firstValue("X-Etcd-Index").orElseThrow());
    send("DELETE", "/d/k", "");
    assertThat(get("/d/k").statusCode()).isEqualTo(404);
    assertThat(JSON.readTree(get("/d?recursive=true").body()).at("/node/nodes").isMissingNode()).isTrue();

    send("PUT", "/d/soon", "value=x&ttl=1");
    get("/d/soon");
    long indexBefore = index(get("/other"));
    assertThat(index(get("/other"))).isEqualTo(indexBefore); // from the cache
    var dirBefore = get("/d");
    assertThat(JSON.readTree(dirBefore.body()).at("/node/nodes").size()).isEqualTo(1);
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (get("/d/soon").statusCode() != 404) {
      assertThat(System.nanoTime()).as("the TTL key expires").isLessThan(deadline);
      Thread.sleep(50);
    }
    assertThat(JSON.readTree(get("/d").body()).at("/node/nodes").isMissingNode()).isTrue();
    assertThat(index(get("/other"))).isGreaterThan(indexBefore); // the expiry made a new revision
  }

  private static long index(HttpResponse<?> r) {
    return Long.parseLong(r.headers().firstValue("X-Etcd-Index").orElseThrow());
  }

  private static String value(HttpResponse<byte[]> r) throws Exception {
    return JSON.readTree(r.body()).at("/node/value").asText();
  }

  /**
   * Readers hammer one key while a writer changes it: each reader's values only grow, every answer
   * is consistent with its own X-Etcd-Index, and after each write's answer every GET shows it.
   */
  @Test
  void readersNeverSeeAValueOlderThanTheLastWriteAnswered() throws Exception {
    send("PUT", "/c", "value=0");
    AtomicBoolean done = new AtomicBoolean();
    ExecutorService readers = Executors.newFixedThreadPool(3);
    try {
      List<Future<Integer>> running = new ArrayList<>();
      for (int t = 0; t < 3; t++) {
        running.add(readers.submit(() -> {
          long last = -1;
          int n = 0;
          while (!done.get()) {
            var r = get("/c");
            JsonNode node = JSON.readTree(r.body()).get("node");
            long v = node.get("value").asLong();
            assertThat(v).isGreaterThanOrEqualTo(last);
            // the only key written: the store's index is this key's last change
            assertThat(node.get("modifiedIndex").asLong())
                .isEqualTo(Long.parseLong(r.headers().firstValue("X-Etcd-Index").orElseThrow()));
            last = v;
            n++;
          }
          return n;
        }));
      }
      for (int i = 1; i <= 150; i++) {
        assertThat(send("PUT", "/c", "value=" + i).statusCode()).isEqualTo(200);
        assertThat(value(get("/c"))).isEqualTo(Integer.toString(i));
        assertThat(value(get("/c"))).isEqualTo(Integer.toString(i));
      }
      done.set(true);
      for (Future<Integer> f : running) {
        assertThat(f.get(60, TimeUnit.SECONDS)).isPositive();
      }
    } finally {
      done.set(true);
      readers.shutdownNow();
    }
    assertThat(hits()).isPositive();
  }
}
