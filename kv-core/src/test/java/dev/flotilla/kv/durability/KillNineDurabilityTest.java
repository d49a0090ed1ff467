package dev.flotilla.kv.durability;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kill -9 during a stream of acknowledged writes loses none of them. */
class KillNineDurabilityTest {
  @TempDir Path tmp;

  @Test
  void everyAcknowledgedWriteSurvivesSigkill() throws Exception {
    Path data = tmp.resolve("data");
    Path log = tmp.resolve("kvd.log");
    Map<String, String> acked = new ConcurrentHashMap<>();
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    for (int round = 0; round < 3; round++) {
      try (KvdProcess kvd = KvdProcess.start(data, log)) {
        URI base = kvd.url();
        // what earlier rounds acknowledged is still there
        assertAllPresent(http, base, acked);
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService writers = Executors.newFixedThreadPool(16);
        final int r = round;
        for (int w = 0; w < 16; w++) {
          final int writer = w;
          writers.submit(() -> {
            for (int i = 0; !stop.get(); i++) {
              String key = "/dur/r" + r + "/w" + writer + "/k" + i;
              String value = "v" + r + "-" + writer + "-" + i;
              try {
                var resp = http.send(HttpRequest.newBuilder(base.resolve("/v2/keys" + key))
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .PUT(HttpRequest.BodyPublishers.ofString("value=" + value)).build(),
                    HttpResponse.BodyHandlers.ofString());
                if (resp.statusCode() == 201 || resp.statusCode() == 200) {
                  acked.put(key, value);
                }
              } catch (Exception e) {
                return; // the server died under us: this write was not acknowledged
              }
            }
          });
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int target = (round + 1) * 500;
        while (acked.size() < target && System.nanoTime() < deadline) {
          Thread.sleep(5);
        }
        kvd.kill9();
        stop.set(true);
        writers.shutdown();
        assertThat(writers.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        assertThat(acked.size()).as("writes acknowledged before the kill").isGreaterThanOrEqualTo(target);
      }
    }
    try (KvdProcess kvd = KvdProcess.start(data, log)) {
      assertAllPresent(http, kvd.url(), acked);
    }
  }

  private static void assertAllPresent(HttpClient http, URI base, Map<String, String> acked)
      throws Exception {
    for (var e : acked.entrySet()) {
      var resp = http.send(HttpRequest.newBuilder(base.resolve("/v2/keys" + e.getKey())).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(resp.statusCode()).as("GET %s after restart", e.getKey()).isEqualTo(200);
      assertThat(resp.body()).as("value of %s", e.getKey()).contains("\"value\":\"" + e.getValue() + "\"");
    }
  }
}
