package dev.flotilla.kv.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flotilla.kv.compat.EtcdProcess;
import dev.flotilla.kv.compat.Etcdctl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The v3 Cluster and Maintenance services on three kvd processes, driven by real
 * {@code ETCDCTL_API=3 etcdctl}: the membership commands (add, remove, update, promote, learners, and
 * every refusal) run against a real three-member etcd 3.4 too, and the answers must agree once
 * member IDs, cluster IDs and URLs are replaced by names; then, on kvd, a learner joins, catches
 * up and is promoted, HashKV agrees on all four members, leadership moves to the new member, and a
 * removed member stops.
 */
class ClusterV3Test {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern HEX_ID = Pattern.compile("\\b[0-9a-f]{12,16}\\b");
  private static final Pattern DEC_ID = Pattern.compile("\\b[0-9]{17,20}\\b");

  @TempDir
  Path tmp;

  /** One cluster under test, seen from etcdctl: endpoints and URLs to name in the answers. */
  record Target(String kind, String endpoint, List<String> clientUrls, List<String> peerUrls, List<String> fresh) {}

  @Test
  @Timeout(400)
  void memberCommandsAnswerAsEtcdAndLearnersJoin() throws Exception {
    Etcdctl ctl = Etcdctl.find();
    Path etcd = Etcdctl.etcd();
    Files.createDirectories(tmp.resolve("etcd"));
    Files.createDirectories(tmp.resolve("kvd"));
    try (EtcdCluster oracle = new EtcdCluster(etcd, tmp.resolve("etcd"), 3);
         KvdCluster kvd = new KvdCluster(tmp.resolve("kvd"), 3, 1000, new Firewall())) {
      kvd.startAll();
      KvdCluster.Member leader = kvd.awaitLeader(Duration.ofSeconds(60));
      assertThat(leader).as("a kvd leader\n%s", kvd.logs()).isNotNull();
      KvdCluster.Member follower = kvd.members.stream().filter(m -> m != leader).findFirst().orElseThrow();
      // each member publishes its client URLs through the log once it runs; the session below
      // starts once the member it asks has applied all three (a list line without: "PEER, , false")
      Etcdctl.Result published = ctl.runUntil(Duration.ofSeconds(30), r -> r.exit() == 0 && !r.out().contains(", , "),
          follower.clientUrl().toString(), "member", "list");
      assertThat(published.out()).as(published.shown()).doesNotContain(", , ");

      List<String> etcdFresh = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        etcdFresh.add("http://127.0.0.1:" + EtcdProcess.freePort());
      }
      Target e = new Target("etcd", oracle.clientUrls.get(1), oracle.clientUrls, oracle.peerUrls, etcdFresh);
      List<String> kvdFresh = List.of("http://127.0.0.1:" + EtcdProcess.freePort(), "http://127.0.0.1:"
          + EtcdProcess.freePort(), "http://127.0.0.1:" + EtcdProcess.freePort(), "http://127.0.0.1:"
          + EtcdProcess.freePort());
      Target k = new Target("kvd", follower.clientUrl().toString(),
          kvd.members.stream().map(m -> m.clientUrl().toString()).toList(),
          kvd.members.stream().map(KvdCluster.Member::peerUrl).toList(), kvdFresh);

      var wantF = CompletableFuture.supplyAsync(() -> session(ctl, e));
      var gotF = CompletableFuture.supplyAsync(() -> session(ctl, k));
      Map<String, String> want = wantF.join();
      Map<String, String> got = gotF.join();
      List<String> differences = new ArrayList<>();
      for (var step : want.entrySet()) {
        if (!step.getValue().equals(got.get(step.getKey()))) {
          differences.add(step.getKey() + "\n  etcd:\n" + indent(step.getValue()) + "  kvd:\n"
              + indent(got.get(step.getKey())));
        }
      }
      assertThat(differences).as("steps where kvd answers otherwise than etcd (of %d)\netcd logs:\n%s", want.size(),
          oracle.logs()).isEmpty();

      learnerJoinsIsPromotedAndLeads(ctl, kvd, follower);
    }
  }

  /** The same etcdctl membership session; answers by step, IDs and URLs replaced by names. */
  private static Map<String, String> session(Etcdctl ctl, Target t) {
    try {
      Map<String, String> out = new LinkedHashMap<>();
      Names names = new Names(t);
      String ep = t.endpoint();
      JsonNode list = JSON.readTree(ctl.run(ep, "member", "list", "-w", "json").out());
      for (JsonNode m : list.get("members")) {
        names.id(Long.toUnsignedString(m.get("ID").asLong(), 16), m.get("name").asText());
      }
      out.put("member list", names.sortedLines(ctl.run(ep, "member", "list")));
      // etcd refuses a change until its peers have been connected for 5 s (strict reconfig check)
      Etcdctl.Result added = ctl.runUntil(Duration.ofSeconds(30), r -> !r.err().contains("unhealthy cluster"),
          ep, "member", "add", "m4", "--peer-urls", t.fresh().get(0));
      out.put("member add m4", names.addAnswer(added));
      String m4 = names.lastNew;
      out.put("member add, peer URL taken", names.of(ctl.run(ep, "member", "add", "m5", "--peer-urls", t.fresh().get(0))));
      out.put("member add, a voter not started", names.of(ctl.run(ep, "member", "add", "m5", "--peer-urls", t.fresh().get(1))));
      out.put("member list with an unstarted member", names.sortedLines(ctl.run(ep, "member", "list")));
      out.put("member remove m4", names.of(ctl.run(ep, "member", "remove", m4)));
      out.put("member remove m4 again", names.of(ctl.run(ep, "member", "remove", m4)));
      out.put("member remove unknown", names.of(ctl.run(ep, "member", "remove", "1234")));
      out.put("member remove bad ID", names.of(ctl.run(ep, "member", "remove", "zz")));
      String m1 = names.idOf("m1");
      out.put("member update, peer URL taken", names.of(ctl.run(ep, "member", "update", m1, "--peer-urls", t.peerUrls().get(1))));
      out.put("member update unknown", names.of(ctl.run(ep, "member", "update", "1234", "--peer-urls", t.fresh().get(2))));
      out.put("member update m1", names.of(ctl.run(ep, "member", "update", m1, "--peer-urls", t.peerUrls().get(0))));
      out.put("member promote a voter", names.of(ctl.run(ep, "member", "promote", m1)));
      out.put("member promote unknown", names.of(ctl.run(ep, "member", "promote", "1234")));
      out.put("member add learner", names.addAnswer(ctl.run(ep, "member", "add", "m6", "--learner", "--peer-urls", t.fresh().get(2))));
      String m6 = names.lastNew;
      out.put("member add second learner", names.of(ctl.run(ep, "member", "add", "m7", "--learner", "--peer-urls", t.fresh().get(3))));
      out.put("member list with a learner", names.sortedLines(ctl.run(ep, "member", "list")));
      out.put("member promote a learner not started", names.of(ctl.run(ep, "member", "promote", m6)));
      out.put("member remove learner", names.of(ctl.run(ep, "member", "remove", m6)));
      out.put("member list at the end", names.sortedLines(ctl.run(ep, "member", "list")));
      String all = String.join(",", t.clientUrls());
      out.put("move-leader unknown", names.of(ctl.run(all, "move-leader", "1234")));
      return out;
    } catch (Exception ex) {
      throw new RuntimeException(t.kind() + " session failed: " + ex, ex);
    }
  }

  private void learnerJoinsIsPromotedAndLeads(Etcdctl ctl, KvdCluster kvd, KvdCluster.Member follower) throws Exception {
    String ep = follower.clientUrl().toString();
    for (int i = 0; i < 50; i++) {
      assertThat(ctl.run(ep, "put", "k" + i, "v" + i).exit()).isZero();
    }
    KvdCluster.Member learner = kvd.newJoiner(List.copyOf(kvd.members));
    Etcdctl.Result added = ctl.run(ep, "member", "add", learner.name, "--learner", "--peer-urls", learner.peerUrl());
    assertThat(added.exit()).as(added.shown()).isZero();
    Matcher idm = Pattern.compile("Member\\s+([0-9a-f]+) added").matcher(added.out());
    assertThat(idm.find()).as(added.shown()).isTrue();
    String id = idm.group(1);
    learner.start();
    learner.awaitUp(Duration.ofSeconds(90));
    // etcd 3.4: a learner answers Status and serializable reads only
    String atLearner = learner.clientUrl().toString();
    Etcdctl.Result learnerGet = ctl.runUntil(Duration.ofSeconds(30), r -> r.out().equals("k5\nv5\n"),
        atLearner, "get", "k5", "--consistency=s");
    assertThat(learnerGet.out()).as(learnerGet.shown()).isEqualTo("k5\nv5\n");
    assertThat(ctl.run(atLearner, "get", "k5").err()).contains("etcdserver: rpc not supported for learner");
    assertThat(ctl.run(atLearner, "put", "k5", "x").err()).contains("etcdserver: rpc not supported for learner");
    assertThat(ctl.run(atLearner, "endpoint", "status").out()).contains(", false, true, "); // IS LEADER, IS LEARNER
    Etcdctl.Result promoted = ctl.runUntil(Duration.ofSeconds(60), r -> r.exit() == 0, ep, "member", "promote", id);
    assertThat(promoted.out()).as(promoted.shown()).matches("Member\\s+" + id + " promoted in cluster\\s+[0-9a-f]+\n");
    assertThat(ctl.run(ep, "member", "list").out()).contains(id + ", started, " + learner.name + ", "
        + learner.peerUrl() + ", " + learner.clientUrl() + ", false");

    // HashKV: the same keyspace hash on every member once all have applied the same revision
    String all = String.join(",", kvd.members.stream().map(m -> m.clientUrl().toString()).toList());
    Etcdctl.Result hashes = ctl.runUntil(Duration.ofSeconds(30), r -> distinct(r, "hash") == 1
        && distinct(r, "revision") == 1, all, "endpoint", "hashkv", "-w", "json");
    assertThat(distinct(hashes, "hash")).as(hashes.shown()).isEqualTo(1);
    assertThat(JSON.readTree(hashes.out()).size()).isEqualTo(4);

    // MoveLeader: the request goes to the leader (etcdctl finds it); the new member then leads
    Etcdctl.Result moved = ctl.run(all, "move-leader", id);
    assertThat(moved.out()).as(moved.shown()).matches("Leadership transferred from [0-9a-f]+ to " + id + "\n");
    assertThat(kvd.awaitLeader(Duration.ofSeconds(10))).isSameAs(learner);
    Etcdctl.Result notLeader = ctl.run(follower.clientUrl().toString(), "move-leader", id);
    assertThat(notLeader.err()).contains("no leader endpoint given");

    // a member removed through the v3 API stops by itself
    Etcdctl.Result removed = ctl.run(ep, "member", "remove", id);
    assertThat(removed.out()).as(removed.shown()).matches("Member\\s+" + id + " removed from cluster\\s+[0-9a-f]+\n");
    assertThat(learner.process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).as("the removed member exits")
        .isTrue();
    // the removed member led: the others may learn that its removal committed only from the next
    // leader, so the list converges rather than changes at once (etcd's MemberList is local too)
    Etcdctl.Result three = ctl.runUntil(Duration.ofSeconds(30), r -> r.out().lines().count() == 3, ep, "member", "list");
    assertThat(three.out().lines().count()).as(three.shown()).isEqualTo(3);
  }

  private static long distinct(Etcdctl.Result r, String field) {
    try {
      JsonNode arr = JSON.readTree(r.out());
      List<String> values = new ArrayList<>();
      for (JsonNode n : arr) {
        JsonNode h = n.get("HashKV");
        values.add(field.equals("hash") ? h.get("hash").asText() : h.get("header").get("revision").asText());
      }
      return values.isEmpty() ? 0 : values.stream().distinct().count();
    } catch (Exception e) {
      return 0;
    }
  }

  static String indent(String s) {
    return s == null ? "    (none)\n" : "    " + s.replace("\n", "\n    ") + "\n";
  }

  /** Replaces IDs and URLs with names that are the same on both clusters. */
  private static final class Names {
    private final Map<String, String> byId = new LinkedHashMap<>();
    private final Map<String, String> urls = new LinkedHashMap<>();
    private int added;
    String lastNew;

    Names(Target t) {
      for (int i = 0; i < t.clientUrls().size(); i++) {
        urls.put(t.clientUrls().get(i), "CLIENT" + (i + 1));
        urls.put(t.peerUrls().get(i), "PEER" + (i + 1));
      }
      for (int i = 0; i < t.fresh().size(); i++) {
        urls.put(t.fresh().get(i), "NEWPEER" + (i + 1));
      }
    }

    void id(String hex, String name) {
      byId.put(hex, name);
    }

    String idOf(String name) {
      return byId.entrySet().stream().filter(e -> e.getValue().equals(name)).findFirst().orElseThrow().getKey();
    }

    String of(Etcdctl.Result r) {
      return replace(r.shown());
    }

    /** A member list: its lines sorted (both list by ID, and the IDs differ). */
    String sortedLines(Etcdctl.Result r) {
      String[] lines = replace(r.out()).split("\n");
      Arrays.sort(lines);
      return "exit " + r.exit() + "\n" + String.join("\n", lines) + (r.err().isEmpty() ? "" : "\nstderr: " + replace(r.err()));
    }

    /** "Member X added to cluster Y" and the ETCD_* lines, with the initial cluster's members sorted. */
    String addAnswer(Etcdctl.Result r) {
      Matcher m = Pattern.compile("Member\\s+([0-9a-f]+) added").matcher(r.out());
      if (m.find()) {
        lastNew = m.group(1);
        byId.put(lastNew, "ADDED" + (++added));
      }
      StringBuilder b = new StringBuilder();
      for (String line : r.out().split("\n", -1)) {
        if (line.startsWith("ETCD_INITIAL_CLUSTER=\"")) {
          String[] parts = line.substring(22, line.length() - 1).split(",");
          Arrays.sort(parts);
          line = "ETCD_INITIAL_CLUSTER=\"" + String.join(",", parts) + "\"";
        }
        b.append(line).append('\n');
      }
      return replace(new Etcdctl.Result(r.exit(), b.toString(), r.err()).shown());
    }

    private String replace(String s) {
      for (var u : urls.entrySet()) {
        s = s.replace(u.getKey(), u.getValue());
      }
      // etcdctl prints IDs with %16x: a short one is padded with spaces
      s = s.replaceAll("(to|in|from) cluster +[0-9a-f]+", "$1 cluster CLUSTER").replaceAll("Member +", "Member ");
      Matcher m = HEX_ID.matcher(s);
      StringBuilder b = new StringBuilder();
      while (m.find()) {
        m.appendReplacement(b, byId.getOrDefault(m.group(), m.group()));
      }
      m.appendTail(b);
      return DEC_ID.matcher(b.toString()).replaceAll("DECIMAL_ID");
    }
  }
}
