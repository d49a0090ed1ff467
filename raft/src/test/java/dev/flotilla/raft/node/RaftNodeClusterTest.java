package dev.flotilla.raft.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three members in one JVM over real gRPC on loopback, with real WALs on disk: they elect a leader,
 * commit 1,000 proposals, survive a follower being stopped (and catching up by snapshot when it
 * returns) and then the leader, and all apply the same sequence.
 */
class RaftNodeClusterTest {

  private static final Duration TICK = Duration.ofMillis(25);
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path dir;

  private static List<String> values(String prefix, int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(prefix + "-" + i);
    }
    return out;
  }

  @Test
  void electsCommitsSurvivesAFollowerAndTheLeaderRestartingAndAllApplyTheSameSequence() throws Exception {
    try (ThreeNodeCluster cluster = new ThreeNodeCluster(dir, TICK, 200, UnaryOperator.identity())) {
      cluster.startAll();
      ThreeNodeCluster.Member leader = cluster.awaitLeader(WAIT);
      List<String> acked = new ArrayList<>();

      List<String> first = values("a", 400);
      long t0 = System.nanoTime();
      cluster.proposeAll(first, 128, WAIT);
      double seconds = (System.nanoTime() - t0) / 1e9;
      acked.addAll(first);
      System.out.printf("3 members, real WALs, gRPC: %d proposals (128 in flight) in %.2f s = %.0f entries/s%n",
          first.size(), seconds, first.size() / seconds);
      long[] rs = leader.node.readiesAndSyncs();
      System.out.printf("leader %d: %d Readys, %d syncs%n", leader.id, rs[0], rs[1]);

      // a follower goes away; the other two carry on, and the leader compacts past it
      long follower = ThreeNodeCluster.IDS.stream().filter(id -> id != cluster.awaitLeader(WAIT).id).findFirst()
          .orElseThrow();
      cluster.stop(follower);
      List<String> second = values("b", 300);
      cluster.proposeAll(second, 128, WAIT);
      acked.addAll(second);
      cluster.start(follower);
      long commit = cluster.awaitLeader(WAIT).node.view().commit();
      cluster.awaitConverged(commit, WAIT);
      assertThat(cluster.member(follower).transport().stats().snapshotsReceived())
          .as("the returning follower was %d entries behind a compacted log", second.size()).isPositive();

      // now the leader goes away
      ThreeNodeCluster.Member oldLeader = cluster.awaitLeader(WAIT);
      cluster.stop(oldLeader.id);
      ThreeNodeCluster.Member newLeader = cluster.awaitLeader(WAIT);
      assertThat(newLeader.id).isNotEqualTo(oldLeader.id);
      List<String> third = values("c", 300);
      cluster.proposeAll(third, 128, WAIT);
      acked.addAll(third);
      cluster.start(oldLeader.id);
      commit = cluster.awaitLeader(WAIT).node.view().commit();
      cluster.awaitConverged(commit, WAIT);

      List<String> reference = cluster.member(1).app.values();
      for (ThreeNodeCluster.Member m : cluster.running()) {
        assertThat(m.app.values()).as("member %d's applied sequence", m.id).isEqualTo(reference);
        assertThat(m.node.failure()).isNull();
      }
      assertThat(cluster.running()).hasSize(3);
      assertThat(new HashSet<>(reference)).containsAll(acked);
      assertThat(acked).hasSize(1000);
    }
  }
}
