package dev.flotilla.kv.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live membership changes through the v2 members API on a cluster of kvd processes, with writes
 * flowing the whole time: a fourth member is added (the request goes to a follower, which passes it
 * to the leader) and catches up; a member is removed and stops by itself; a member whose disk was
 * wiped is removed and replaced by a new one that catches up by snapshot. Every acknowledged write
 * is there at the end, on every member.
 */
class ClusterMembershipTest {
  private static final Pattern ID = Pattern.compile("\"id\":\"([0-9a-f]+)\"");

  @TempDir
  Path tmp;

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  @Test
  void membersAreAddedRemovedAndReplacedWhileWritesFlow() throws Exception {
    try (KvdCluster cluster = new KvdCluster(tmp, 3, 200, new Firewall())) {
      cluster.startAll();
      assertThat(cluster.awaitLeader(Duration.ofSeconds(20))).isNotNull();
      Map<String, String> acked = new ConcurrentHashMap<>();
      AtomicBoolean stop = new AtomicBoolean();
      AtomicInteger seq = new AtomicInteger();
      List<KvdCluster.Member> writeTargets = new java.util.concurrent.CopyOnWriteArrayList<>(cluster.members);
      Thread writer = new Thread(() -> {
        while (!stop.get()) {
          int n = seq.incrementAndGet();
          KvdCluster.Member m = writeTargets.get(n % writeTargets.size());
          try {
            var r = put(m.clientUrl(), "w" + (n % 500), "v" + n);
            if (r.statusCode() == 200 || r.statusCode() == 201) {
              acked.put("w" + (n % 500), "v" + n);
            }
          } catch (IOException e) {
            // a member going away: try the next
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "writer");
      writer.start();
      try {
        awaitWrites(seq, 300);
        KvdCluster.Member leader = cluster.awaitLeader(Duration.ofSeconds(10));
        KvdCluster.Member follower = cluster.members.stream().filter(m -> m != leader).findFirst().orElseThrow();

        // add a fourth member through a follower
        KvdCluster.Member m4 = cluster.newJoiner(List.copyOf(cluster.members));
        var added = post(follower.clientUrl(), "{\"peerURLs\":[\"" + m4.peerUrl() + "\"]}");
        assertThat(added.statusCode()).as(added.body()).isEqualTo(201);
        assertThat(added.body()).contains(m4.peerUrl());
        m4.start();
        m4.awaitUp(KvdCluster.START_TIMEOUT);
        writeTargets.add(m4);
        awaitMembers(leader, 4);
        awaitWrites(seq, seq.get() + 300);

        // the same peer URLs again: 409
        var again = post(leader.clientUrl(), "{\"peerURLs\":[\"" + m4.peerUrl() + "\"]}");
        assertThat(again.statusCode()).as(again.body()).isEqualTo(409);

        // remove a member that is not the leader: it stops by itself
        KvdCluster.Member gone = cluster.members.stream()
            .filter(m -> m != leader && m != m4 && m != follower).findFirst().orElseThrow();
        writeTargets.remove(gone);
        var removed = delete(follower.clientUrl(), gone.id);
        assertThat(removed.statusCode()).as(removed.body()).isEqualTo(204);
        assertThat(gone.process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS))
            .as("the removed member exits by itself").isTrue();
        assertThat(delete(leader.clientUrl(), gone.id).statusCode()).isEqualTo(410);
        awaitMembers(leader, 3);

        // wipe a member's disk, remove it, and replace it with a new member
        writeTargets.remove(follower);
        follower.kill();
        deleteTree(follower.dataDir);
        var wiped = delete(leader.clientUrl(), follower.id);
        assertThat(wiped.statusCode()).as(wiped.body()).isEqualTo(204);
        awaitWrites(seq, seq.get() + 500); // enough for a snapshot: the new member gets one
        List<KvdCluster.Member> current = cluster.members.stream()
            .filter(m -> m != gone && m != follower).toList();
        KvdCluster.Member m5 = cluster.newJoiner(current);
        var replaced = post(m4.clientUrl(), "{\"peerURLs\":[\"" + m5.peerUrl() + "\"]}");
        assertThat(replaced.statusCode()).as(replaced.body()).isEqualTo(201);
        m5.start();
        m5.awaitUp(KvdCluster.START_TIMEOUT);
        writeTargets.add(m5);
        awaitWrites(seq, seq.get() + 300);
        awaitMembers(leader, 3);
        // the leader's log was compacted long before m5 came: it catches up by a snapshot, which
        // arrives once the leader's stream to it is up (writes through other members do not wait for it)
        long snapshotDeadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!Files.readString(m5.log()).contains("restoring the store from a snapshot")
            && System.nanoTime() < snapshotDeadline) {
          Thread.sleep(100);
        }
        assertThat(Files.readString(m5.log())).contains("restoring the store from a snapshot");

        stop.set(true);
        writer.join(10_000);
        for (KvdCluster.Member m : List.of(leader, m4, m5)) {
          awaitAllAcked(m, acked);
        }
        var list = http.send(HttpRequest.newBuilder(leader.clientUrl().resolve("/v2/members")).build(),
            HttpResponse.BodyHandlers.ofString()).body();
        assertThat(list).contains(leader.peerUrl(), m4.peerUrl(), m5.peerUrl())
            .doesNotContain(gone.peerUrl(), follower.peerUrl());
      } catch (AssertionError | Exception e) {
        throw new AssertionError(e.getMessage() + "\n" + cluster.logs(), e);
      } finally {
        stop.set(true);
        writer.join(10_000);
      }
    }
  }

  private void awaitWrites(AtomicInteger seq, int target) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (seq.get() < target && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(seq.get()).as("writes keep flowing").isGreaterThanOrEqualTo(target);
  }

  private void awaitMembers(KvdCluster.Member through, int count) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    String body = "";
    while (System.nanoTime() < deadline) {
      body = http.send(HttpRequest.newBuilder(through.clientUrl().resolve("/v2/members")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      Matcher m = ID.matcher(body);
      int n = 0;
      while (m.find()) {
        n++;
      }
      if (n == count) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("expected " + count + " members, got " + body);
  }

  private void awaitAllAcked(KvdCluster.Member m, Map<String, String> acked) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    List<String> missing = new ArrayList<>();
    while (System.nanoTime() < deadline) {
      missing.clear();
      for (Map.Entry<String, String> e : acked.entrySet()) {
        var r = http.send(HttpRequest.newBuilder(m.clientUrl().resolve("/v2/keys/" + e.getKey())).build(),
            HttpResponse.BodyHandlers.ofString());
        // a later write to the key whose answer was lost (its member killed after forwarding it)
        // may have landed: the value must be the acknowledged write or a later one
        var value = java.util.regex.Pattern.compile("\"value\":\"v(\\d+)\"").matcher(r.body());
        if (!value.find() || Integer.parseInt(value.group(1)) < Integer.parseInt(e.getValue().substring(1))) {
          missing.add(e.getKey() + "=" + e.getValue() + " (got " + r.body() + ")");
        }
      }
      if (missing.isEmpty()) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError(m + " lacks acknowledged writes: " + missing.subList(0, Math.min(5, missing.size())));
  }

  private HttpResponse<String> put(URI base, String key, String value) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(base.resolve("/v2/keys/" + key))
        .timeout(Duration.ofSeconds(5))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .PUT(HttpRequest.BodyPublishers.ofString("value=" + value)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(URI base, String json) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(base.resolve("/v2/members"))
        .timeout(Duration.ofSeconds(15))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> delete(URI base, String id) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(base.resolve("/v2/members/" + id))
        .timeout(Duration.ofSeconds(15)).DELETE().build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
