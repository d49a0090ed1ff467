package dev.flotilla.kv.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.kv.compat.EtcdProcess;
import dev.flotilla.kv.embed.EmbeddedKv;
import dev.flotilla.kv.embed.KvConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * etcd's discovery protocol end to end: three kvd processes find each other through a discovery
 * URL made by a kvd's {@code /new?size=3} and form one cluster; a fourth is told the cluster is
 * full and exits; and the same with the token kept on a real etcd 3.4.
 */
class ClusterDiscoveryTest {
  @TempDir
  Path tmp;

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  @Test
  void threeMembersFromAKvdDiscoveryServiceAndAFourthIsRefused() throws Exception {
    try (EmbeddedKv service = EmbeddedKv.start(KvConfig.builder(tmp.resolve("discovery"))
        .listenClientUrl("http://127.0.0.1:0").build())) {
      URI base = service.clientUrls().get(0);
      var made = http.send(HttpRequest.newBuilder(base.resolve("/new?size=3")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(made.statusCode()).isEqualTo(200);
      String url = made.body().strip();
      assertThat(url).startsWith(base + "/v2/keys/_etcd/registry/");
      var size = http.send(HttpRequest.newBuilder(URI.create(url + "/_config/size")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(size.body()).contains("\"value\":\"3\"");
      assertThat(http.send(HttpRequest.newBuilder(base.resolve("/new?size=zero")).build(),
          HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(400);

      formClusterAndRefuseAFourth(url, tmp.resolve("kvd-service"));
    }
  }

  @Test
  void threeMembersFromATokenOnARealEtcd() throws Exception {
    try (EtcdProcess etcd = EtcdProcess.start("discovery", true, Files.createDirectories(tmp.resolve("etcd-logs")))) {
      String url = etcd.clientUrl() + "/v2/keys/_etcd/registry/token-on-etcd";
      var put = http.send(HttpRequest.newBuilder(URI.create(url + "/_config/size"))
          .header("Content-Type", "application/x-www-form-urlencoded")
          .PUT(HttpRequest.BodyPublishers.ofString("value=3")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
      formClusterAndRefuseAFourth(url, tmp.resolve("etcd-service"));
    }
  }

  private void formClusterAndRefuseAFourth(String url, Path dir) throws Exception {
    Files.createDirectories(dir);
    try (KvdCluster cluster = new KvdCluster(dir, 3, 10_000, new Firewall(), url)) {
      cluster.startAll();
      KvdCluster.Member leader = cluster.awaitLeader(Duration.ofSeconds(30));
      assertThat(leader).as("the discovered members elect a leader\n" + cluster.logs()).isNotNull();
      var members = http.send(HttpRequest.newBuilder(leader.clientUrl().resolve("/v2/members")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      for (KvdCluster.Member m : cluster.members) {
        assertThat(members).contains(m.peerUrl());
      }
      var put = http.send(HttpRequest.newBuilder(cluster.members.get(2).clientUrl().resolve("/v2/keys/found"))
          .header("Content-Type", "application/x-www-form-urlencoded")
          .PUT(HttpRequest.BodyPublishers.ofString("value=yes")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
      var got = http.send(HttpRequest.newBuilder(cluster.members.get(0).clientUrl().resolve("/v2/keys/found?quorum=true"))
          .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(got.body()).contains("\"value\":\"yes\"");

      KvdCluster.Member fourth = cluster.newDiscoveryMember(url);
      fourth.start();
      assertThat(fourth.process.waitFor(60, TimeUnit.SECONDS)).as("the fourth member exits").isTrue();
      assertThat(fourth.process.exitValue()).isNotZero();
      assertThat(Files.readString(fourth.log())).contains("cluster is full");
    }
  }
}
