package dev.flotilla.kv.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.kv.embed.EmbeddedKv;
import dev.flotilla.kv.embed.KvConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedding API's member is a cluster member like any other: two kvd processes and one
 * {@link EmbeddedKv} in this JVM form a cluster; writes through the embedded member's in-process
 * client are read through the processes and the other way round, and with one process killed the
 * remaining two still form a quorum and take writes, and its stats and /v2/stats/store count them.
 */
class EmbeddedClusterMemberTest {
  @TempDir
  Path tmp;

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  @Test
  void anEmbeddedMemberJoinsTwoKvdProcessesInOneCluster() throws Exception {
    try (KvdCluster cluster = new KvdCluster(tmp, 3, 10_000, new Firewall())) {
      KvdCluster.Member m1 = cluster.members.get(0);
      KvdCluster.Member m2 = cluster.members.get(1);
      KvdCluster.Member m3 = cluster.members.get(2); // this one runs here, embedded
      m1.start();
      m2.start();
      KvConfig cfg = KvConfig.builder(tmp.resolve("embedded"))
          .name(m3.name)
          .listenClientUrls(List.of(m3.clientUrl()))
          .listenPeerUrls(List.of(URI.create(m3.peerUrl())))
          .initialCluster(cluster.initialCluster())
          .initialClusterToken("chaos")
          .heartbeatIntervalMs(50)
          .electionTimeoutMs(500)
          .build();
      try (EmbeddedKv embedded = EmbeddedKv.start(cfg)) {
        m1.awaitUp(KvdCluster.START_TIMEOUT);
        m2.awaitUp(KvdCluster.START_TIMEOUT);
        m3.id = Long.toHexString(dev.flotilla.kv.server.MemberIdentity.memberId(cfg.listenPeerUrls(), "chaos"));
        assertThat(cluster.awaitLeader(Duration.ofSeconds(30))).as(cluster.logs()).isNotNull();

        setThroughEmbedded(embedded, "/from-embedded", "1");
        assertThat(get(m1.clientUrl(), "/from-embedded")).contains("\"value\":\"1\"");
        put(m2.clientUrl(), "/from-process", "2");
        assertThat(get(m3.clientUrl(), "/from-process")).contains("\"value\":\"2\"");

        m1.kill();
        put(m3.clientUrl(), "/after-kill", "3");
        assertThat(get(m2.clientUrl(), "/after-kill")).contains("\"value\":\"3\"");
        String stats = http.send(HttpRequest.newBuilder(m3.clientUrl().resolve("/v2/stats/store")).build(),
            HttpResponse.BodyHandlers.ofString()).body();
        // every member counts every applied set (a retried one may count twice); gets where served
        var sets = java.util.regex.Pattern.compile("\"setsSuccess\":(\\d+)").matcher(stats);
        assertThat(sets.find()).as(stats).isTrue();
        assertThat(Long.parseLong(sets.group(1))).as(stats).isGreaterThanOrEqualTo(3);
        assertThat(stats).contains("\"getsSuccess\":1");
      }
    }
  }

  /** A write through the in-process client, retried as a client would while leadership settles. */
  private static void setThroughEmbedded(EmbeddedKv kv, String key, String value) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      try {
        kv.client().set(key, value);
        return;
      } catch (IllegalStateException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(100);
      }
    }
  }

  private String get(URI base, String key) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    String body = "";
    while (System.nanoTime() < deadline) {
      var r = http.send(HttpRequest.newBuilder(base.resolve("/v2/keys" + key + "?quorum=true"))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
      body = r.body();
      if (r.statusCode() == 200) {
        return body;
      }
      Thread.sleep(100);
    }
    return body;
  }

  private void put(URI base, String key, String value) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      try {
        var r = http.send(HttpRequest.newBuilder(base.resolve("/v2/keys" + key))
            .timeout(Duration.ofSeconds(5))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .PUT(HttpRequest.BodyPublishers.ofString("value=" + value)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200 || r.statusCode() == 201) {
          return;
        }
      } catch (java.io.IOException e) {
        // a leader change under way: again
      }
      Thread.sleep(100);
    }
    throw new AssertionError("PUT " + key + " through " + base + " did not succeed within 20 s");
  }
}
