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

  /**
   * An application that keeps its own state (kvd's store): periodic snapshots persist it and hold
   * no data, nothing is encoded until a follower needs a snapshot, and that follower gets the
   * leader's state as of its applied index, ends with the same sequence, and restarts from its own
   * state (not from the empty periodic snapshot).
   */
  @Test
  void anApplicationThatKeepsItsOwnStateIsEncodedOnlyForAFollowerThatNeedsIt() throws Exception {
    try (ThreeNodeCluster cluster = new ThreeNodeCluster(dir, TICK, 100, UnaryOperator.identity(), true)) {
      cluster.startAll();
      cluster.awaitLeader(WAIT);
      cluster.proposeAll(values("a", 300), 64, WAIT);
      long follower = ThreeNodeCluster.IDS.stream().filter(id -> id != cluster.awaitLeader(WAIT).id).findFirst()
          .orElseThrow();
      cluster.stop(follower);
      cluster.proposeAll(values("b", 300), 64, WAIT);
      ThreeNodeCluster.Member leader = cluster.awaitLeader(WAIT);
      cluster.awaitConverged(leader.node.view().commit(), WAIT);
      var leaderApp = (ThreeNodeCluster.DurableRecorder) leader.app;
      long periodic = leader.store.snapshot().index();
      assertThat(periodic).as("the leader's periodic snapshot").isGreaterThan(300);
      assertThat(leader.store.snapshot().data().length).as("its data: the application keeps the state").isZero();
      assertThat(leaderApp.persists.get()).as("periodic snapshots persisted the application").isPositive();
      for (ThreeNodeCluster.Member m : cluster.running()) {
        assertThat(((ThreeNodeCluster.DurableRecorder) m.app).encodings.get())
            .as("member %d's encodings while nobody needed a snapshot", m.id).isZero();
      }

      cluster.start(follower);
      long commit = cluster.awaitLeader(WAIT).node.view().commit();
      cluster.awaitConverged(commit, WAIT);
      ThreeNodeCluster.Member back = cluster.member(follower);
      assertThat(back.transport().stats().snapshotsReceived()).as("snapshots the follower received").isPositive();
      assertThat(leaderApp.encodings.get()).as("the leader's encodings, for the follower").isPositive();
      assertThat(back.app.values()).isEqualTo(leader.app.values())
          .containsAll(values("a", 300)).containsAll(values("b", 300));

      // it restarts from its own state: the snapshot it received or a later empty one, never re-applied
      cluster.stop(follower);
      cluster.proposeAll(values("c", 50), 64, WAIT);
      cluster.start(follower);
      commit = cluster.awaitLeader(WAIT).node.view().commit();
      cluster.awaitConverged(commit, WAIT);
      for (ThreeNodeCluster.Member m : cluster.running()) {
        assertThat(m.app.values()).as("member %d's applied sequence", m.id).isEqualTo(leader.app.values())
            .containsAll(values("c", 50));
        assertThat(m.node.failure()).isNull();
      }
    }
  }
}
