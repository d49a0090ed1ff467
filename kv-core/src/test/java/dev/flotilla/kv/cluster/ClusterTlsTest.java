package dev.flotilla.kv.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.kv.tls.TestPki;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three kvd processes with TLS on their client and peer URLs (client certificates required on
 * both): they elect a leader and replicate; a member whose peer certificate another CA signed is
 * added to the cluster but never gets to exchange Raft messages with it, until it restarts with a
 * good certificate.
 */
class ClusterTlsTest {
  @TempDir Path tmp;

  @Test
  void tlsClusterReplicatesAndAPeerWithAStrangersCertificateCannotJoin() throws Exception {
    TestPki pki = TestPki.create(tmp.resolve("pki"));
    try (KvdCluster cluster = new KvdCluster(tmp.resolve("kvd"), 3, pki)) {
      cluster.startAll();
      KvdCluster.Member leader = cluster.awaitLeader(Duration.ofSeconds(30));
      assertThat(leader).as("a leader is elected over TLS peer links").isNotNull();
      HttpClient http = cluster.httpClientBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      assertThat(leader.clientUrl().getScheme()).isEqualTo("https");
      var put = http.send(HttpRequest.newBuilder(leader.clientUrl().resolve("/v2/keys/over-tls"))
          .header("Content-Type", "application/x-www-form-urlencoded")
          .PUT(HttpRequest.BodyPublishers.ofString("value=replicated")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
      for (KvdCluster.Member m : cluster.members) {
        var got = http.send(HttpRequest.newBuilder(URI.create(m.clientUrl() + "/v2/keys/over-tls?quorum=true"))
            .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(got.body()).as(m + " reads the write").contains("\"value\":\"replicated\"");
      }

      // a fourth member, added by the API, starting with a peer certificate from another CA
      KvdCluster.Member joiner = cluster.newJoiner(List.copyOf(cluster.members));
      joiner.peerCert = pki.issueFromOtherCa(joiner.name + "-stranger");
      var add = http.send(HttpRequest.newBuilder(leader.clientUrl().resolve("/v2/members"))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"peerURLs\":[\"" + joiner.peerUrl() + "\"]}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(add.statusCode()).as(add.body()).isEqualTo(201);
      joiner.start();
      joiner.awaitUp(KvdCluster.START_TIMEOUT); // it serves clients, but cannot reach its peers
      // as long as it cannot exchange Raft messages, it never publishes its name (etcd's "unstarted")
      assertThat(publishedName(http, leader, joiner, Duration.ofSeconds(8))).as("the stranger never joins").isNull();
      assertThat(joiner.leaderSeen()).isNull();

      // the same member with a good certificate joins: the refusal was the certificate
      joiner.kill();
      joiner.peerCert = null;
      joiner.start();
      assertThat(publishedName(http, leader, joiner, Duration.ofSeconds(30))).isEqualTo(joiner.name);
    }
  }

  /** The name the cluster lists for {@code m}'s peer URL within {@code wait}, or null if it has none by then. */
  private static String publishedName(HttpClient http, KvdCluster.Member leader, KvdCluster.Member m, Duration wait)
      throws Exception {
    long deadline = System.nanoTime() + wait.toNanos();
    var pattern = java.util.regex.Pattern.compile("\"name\":\"([^\"]*)\",\"peerURLs\":\\[\"" + java.util.regex.Pattern.quote(m.peerUrl()));
    while (System.nanoTime() < deadline) {
      var r = http.send(HttpRequest.newBuilder(leader.clientUrl().resolve("/v2/members")).build(),
          HttpResponse.BodyHandlers.ofString());
      var matcher = pattern.matcher(r.body());
      if (matcher.find() && !matcher.group(1).isEmpty()) {
        return matcher.group(1);
      }
      LockSupport.parkNanos(200_000_000L); // poll interval
    }
    return null;
  }
}
