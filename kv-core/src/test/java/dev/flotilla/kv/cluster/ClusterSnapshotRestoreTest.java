package dev.flotilla.kv.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flotilla.kv.compat.Etcdctl;
import dev.flotilla.kv.server.StoreBackup;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Disaster recovery as etcd documents it, on kvd: {@code etcdctl snapshot save} from one member of a
 * three-member cluster, every member of a new cluster restored from that file ({@code kvd snapshot
 * restore}, here its {@link StoreBackup#restore}) and started with a new --initial-cluster: the new
 * cluster serves the same keys at the same revisions, its members agree on HashKV, and it takes
 * writes.
 */
class ClusterSnapshotRestoreTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path tmp;

  @Test
  @Timeout(300)
  void aNewClusterRestoredFromOneSnapshotServesTheSameData() throws Exception {
    Etcdctl ctl = Etcdctl.find();
    Path snap = tmp.resolve("backup.db");
    String before;
    java.nio.file.Files.createDirectories(tmp.resolve("old"));
    java.nio.file.Files.createDirectories(tmp.resolve("new"));
    try (KvdCluster old = new KvdCluster(tmp.resolve("old"), 3, 1000, new Firewall())) {
      old.startAll();
      assertThat(old.awaitLeader(Duration.ofSeconds(60))).as("a leader\n%s", old.logs()).isNotNull();
      String ep = old.members.get(0).clientUrl().toString();
      for (int i = 0; i < 100; i++) {
        assertThat(ctl.run(ep, "put", "k" + (i % 30), "v" + i).exit()).isZero();
      }
      // a linearizable read through the third member: it has applied every write before it saves
      assertThat(ctl.run(old.members.get(2).clientUrl().toString(), "get", "k0").exit()).isZero();
      Etcdctl.Result saved = ctl.run(old.members.get(2).clientUrl().toString(), "snapshot", "save", snap.toString());
      assertThat(saved.exit()).as(saved.shown()).isZero();
      before = keys(ctl, old.members.get(2).clientUrl().toString());
    }

    try (KvdCluster restored = new KvdCluster(tmp.resolve("new"), 3, 1000, new Firewall())) {
      for (KvdCluster.Member m : restored.members) {
        StoreBackup.restore(snap, m.dataDir);
      }
      restored.startAll();
      assertThat(restored.awaitLeader(Duration.ofSeconds(60))).as("a leader\n%s", restored.logs()).isNotNull();
      String all = String.join(",", restored.members.stream().map(m -> m.clientUrl().toString()).toList());
      for (KvdCluster.Member m : restored.members) {
        assertThat(keys(ctl, m.clientUrl().toString())).as("keys on %s", m).isEqualTo(before);
      }
      Etcdctl.Result hashes = ctl.run(all, "endpoint", "hashkv", "-w", "json");
      List<String> values = new java.util.ArrayList<>();
      JSON.readTree(hashes.out()).forEach(n -> values.add(n.get("HashKV").get("hash").asText()));
      assertThat(values).as(hashes.shown()).hasSize(3).containsOnly(values.get(0));
      Etcdctl.Result put = ctl.run(all, "put", "after", "1", "-w", "json");
      assertThat(JSON.readTree(put.out()).get("header").get("revision").asLong())
          .isEqualTo(JSON.readTree(before).get("header").get("revision").asLong() + 1);
      assertThat(ctl.run(all, "member", "list").out().lines().count()).isEqualTo(3);
    }
  }

  /** Every key with its revisions, and the store revision (the member-specific header fields left out). */
  private static String keys(Etcdctl ctl, String ep) throws Exception {
    JsonNode all = JSON.readTree(ctl.run(ep, "get", "", "--prefix", "-w", "json", "--consistency=s").out());
    ((com.fasterxml.jackson.databind.node.ObjectNode) all.get("header")).retain("revision");
    return all.toString();
  }
}
