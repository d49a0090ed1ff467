package dev.flotilla.kv.compat3;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flotilla.kv.Kvd;
import dev.flotilla.kv.compat.Etcdctl;
import dev.flotilla.kv.embed.EmbeddedKv;
import dev.flotilla.kv.embed.KvConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The Maintenance service with real {@code ETCDCTL_API=3 etcdctl}: the NOSPACE alarm past
 * --quota-backend-bytes side by side with a real etcd 3.4 (same answers, step by step), and
 * {@code etcdctl snapshot save} from kvd, restored with {@code kvd snapshot restore}, giving the same
 * data, history, leases and HashKV.
 */
class MaintenanceCompat3Test {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Small enough for a few writes to pass it on either server, large enough for both to start. */
  private static final long QUOTA = 1_500_000;

  @TempDir
  Path tmp;

  @Test
  @Timeout(180)
  void noSpaceAlarmAnswersAsEtcd() throws Exception {
    Etcdctl ctl = Etcdctl.find();
    try (V3Server etcd = V3Server.start("etcd", "nospace", QUOTA);
         V3Server kvd = V3Server.start("kvd", "nospace", QUOTA)) {
      var wantF = CompletableFuture.supplyAsync(() -> noSpaceSession(ctl, etcd));
      var gotF = CompletableFuture.supplyAsync(() -> noSpaceSession(ctl, kvd));
      Map<String, String> want = wantF.join();
      Map<String, String> got = gotF.join();
      List<String> differences = new ArrayList<>();
      StringBuilder transcript = new StringBuilder();
      want.forEach((step, answer) -> transcript.append(step).append("\n  etcd: ").append(answer)
          .append("\n  kvd:  ").append(got.get(step)).append('\n'));
      Files.writeString(EtcdV3Server.logDir().resolve("nospace-etcd-vs-kvd.txt"), transcript);
      want.forEach((step, answer) -> {
        if (!answer.equals(got.get(step))) {
          differences.add(step + "\n  etcd: " + answer + "\n  kvd:  " + got.get(step));
        }
      });
      assertThat(differences).as("NOSPACE steps where kvd answers otherwise than etcd").isEmpty();
      assertThat(want).containsEntry("a write past the quota", "exit 1\nstderr: Error: etcdserver: mvcc: database space exceeded\n");
    }
  }

  /** Fills the store past the quota, then compacts, defragments and disarms; answers by step, normalised. */
  private static Map<String, String> noSpaceSession(Etcdctl ctl, V3Server s) {
    try {
      String ep = s.clientUrl().toString();
      Map<String, String> out = new LinkedHashMap<>();
      out.put("a small put", shown(ctl.run(ep, "put", "small", "1"), s));
      Random random = new Random(7);
      Etcdctl.Result last = null;
      int writes = 0;
      // overwrite one key with 90 kB values (one etcdctl argument stays under 128 kB) until refused
      for (; writes < 200; writes++) {
        last = ctl.run(ep, "put", "big", randomText(random, 90_000));
        if (last.exit() != 0) {
          break;
        }
      }
      assertThat(writes).as("%s took writes past its quota: %s", s.name(), last.shown()).isLessThan(200);
      out.put("a write past the quota", shown(last, s));
      out.put("alarm list", shown(ctl.run(ep, "alarm", "list"), s));
      out.put("a small put while NOSPACE", shown(ctl.run(ep, "put", "other", "1"), s));
      out.put("a lease grant while NOSPACE", shown(ctl.run(ep, "lease", "grant", "60"), s));
      out.put("get while NOSPACE", shown(ctl.run(ep, "get", "small"), s));
      out.put("delete while NOSPACE", shown(ctl.run(ep, "del", "small"), s));
      JsonNode status = JSON.readTree(ctl.run(ep, "endpoint", "status", "-w", "json").out()).get(0).get("Status");
      out.put("status errors", normalise(status.get("errors").toString(), s));
      long rev = status.get("header").get("revision").asLong();
      out.put("compaction", shown(ctl.run(ep, "compaction", Long.toString(rev)), s)
          .replace(Long.toString(rev), "REV"));
      out.put("defrag", shown(ctl.run(ep, "defrag"), s));
      out.put("a put after defrag, still armed", shown(ctl.run(ep, "put", "other", "1"), s));
      out.put("alarm disarm", shown(ctl.run(ep, "alarm", "disarm"), s));
      out.put("alarm list after disarm", shown(ctl.run(ep, "alarm", "list"), s));
      out.put("a put after disarm", shown(ctl.run(ep, "put", "other", "1"), s));
      JsonNode after = JSON.readTree(ctl.run(ep, "endpoint", "status", "-w", "json").out()).get(0).get("Status");
      out.put("db size after compaction and defrag is below the quota",
          Boolean.toString(after.get("dbSize").asLong() < QUOTA));
      return out;
    } catch (Exception e) {
      throw new RuntimeException(s.name() + ": " + e, e);
    }
  }

  private static String randomText(Random r, int n) {
    StringBuilder b = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      b.append((char) ('a' + r.nextInt(26)));
    }
    return b.toString();
  }

  private static String shown(Etcdctl.Result r, V3Server s) {
    return normalise(r.shown(), s);
  }

  /** Member IDs (decimal in alarms) and the endpoint differ between the two servers. */
  private static String normalise(String text, V3Server s) {
    return text.replaceAll("memberID:[0-9]+", "memberID:ID").replace(s.clientUrl().toString(), "ENDPOINT")
        .replace(s.hostPort(), "ENDPOINT").replaceAll("\"[0-9a-f]{16,}\"", "\"LEASE\"")
        .replaceAll("lease [0-9a-f]+ granted", "lease L granted");
  }

  @Test
  @Timeout(120)
  void snapshotSaveThenKvdRestoreGivesTheSameStore() throws Exception {
    Etcdctl ctl = Etcdctl.find();
    Path snap = tmp.resolve("backup.db");
    Map<String, String> before = new LinkedHashMap<>();
    try (EmbeddedKv kv = start(tmp.resolve("original"))) {
      String ep = kv.clientUrls().get(0).toString();
      for (int i = 0; i < 300; i++) {
        assertThat(ctl.run(ep, "put", "k" + (i % 40), "v" + i).exit()).isZero();
      }
      ctl.run(ep, "del", "k7");
      ctl.run(ep, "compaction", "100");
      String lease = ctl.run(ep, "lease", "grant", "600").out().split(" ")[1];
      ctl.run(ep, "put", "leased", "x", "--lease", lease);
      Etcdctl.Result saved = ctl.run(ep, "snapshot", "save", snap.toString());
      assertThat(saved.out()).as(saved.shown()).isEqualTo("Snapshot saved at " + snap + "\n");
      assertThat(Files.size(snap) % 512).as("etcdctl's sha256 trailer check").isEqualTo(32);
      before.putAll(reads(ctl, ep));
    }
    assertThat(before.get("hashkv")).isNotBlank();

    // a damaged copy is refused with the reason, and nothing is created
    Path damaged = tmp.resolve("damaged.db");
    byte[] bytes = Files.readAllBytes(snap);
    bytes[bytes.length / 2] ^= 1;
    Files.write(damaged, bytes);
    Restored bad = restore(damaged, tmp.resolve("from-damaged"));
    assertThat(bad.exit()).isEqualTo(1);
    assertThat(bad.err()).contains("SHA-256 mismatch");
    assertThat(tmp.resolve("from-damaged").resolve("member")).doesNotExist();

    Restored ok = restore(snap, tmp.resolve("restored"));
    assertThat(ok.exit()).as(ok.err()).isZero();
    assertThat(ok.out()).contains("into " + tmp.resolve("restored"));
    assertThat(restore(snap, tmp.resolve("restored")).err()).contains("already has a member/ directory");
    try (EmbeddedKv kv = start(tmp.resolve("restored"))) {
      String ep = kv.clientUrls().get(0).toString();
      Map<String, String> after = reads(ctl, ep);
      assertThat(after).isEqualTo(before);
      Etcdctl.Result put = ctl.run(ep, "put", "new", "1", "-w", "json");
      long rev = JSON.readTree(put.out()).get("header").get("revision").asLong();
      assertThat(rev).as("revisions go on from the backup's").isEqualTo(
          JSON.readTree(before.get("get all")).get("header").get("revision").asLong() + 1);
    }
  }

  /** What must survive a backup: every key with its revisions, history, compaction, leases, HashKV. */
  private static Map<String, String> reads(Etcdctl ctl, String ep) throws Exception {
    Map<String, String> r = new LinkedHashMap<>();
    JsonNode all = JSON.readTree(ctl.run(ep, "get", "", "--prefix", "-w", "json").out());
    ((com.fasterxml.jackson.databind.node.ObjectNode) all.get("header")).remove(List.of("member_id", "cluster_id",
        "raft_term"));
    r.put("get all", all.toString());
    r.put("get k3 at revision 150", ctl.run(ep, "get", "k3", "--rev", "150", "-w", "json").out()
        .replaceAll("\"header\":\\{[^}]*\\},", ""));
    r.put("get below the compaction", ctl.run(ep, "get", "k3", "--rev", "50").err());
    r.put("leases", ctl.run(ep, "lease", "list").out());
    JsonNode hash = JSON.readTree(ctl.run(ep, "endpoint", "hashkv", "-w", "json").out()).get(0).get("HashKV");
    r.put("hashkv", hash.get("hash").asText() + " compact " + hash.get("compact_revision").asText());
    return r;
  }

  private static EmbeddedKv start(Path dataDir) throws Exception {
    EmbeddedKv kv = EmbeddedKv.start(KvConfig.builder(dataDir).name("default")
        .listenClientUrl("http://127.0.0.1:0").build());
    kv.ready().join();
    return kv;
  }

  record Restored(int exit, String out, String err) {}

  /** {@code kvd snapshot restore <file> --data-dir <dir>}, through kvd's own command line. */
  private static Restored restore(Path file, Path dataDir) {
    var out = new ByteArrayOutputStream();
    var err = new ByteArrayOutputStream();
    PrintWriter o = new PrintWriter(out, true);
    PrintWriter e = new PrintWriter(err, true);
    int exit = Kvd.commandLine().setOut(o).setErr(e)
        .execute("snapshot", "restore", file.toString(), "--data-dir", dataDir.toString());
    return new Restored(exit, out.toString(), err.toString());
  }
}
