package dev.flotilla.raft.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flotilla.raft.core.ConfChange;
import dev.flotilla.raft.core.ConfState;
import dev.flotilla.raft.core.Role;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * A member loses its disk and rejoins as a NEW member: the old id is removed by a conf change, a
 * member with a fresh id and an empty disk is added (as a learner then promoted, or directly as a
 * voter) and catches up by log or snapshot, while writes keep flowing. The contrast: rejoining
 * under the OLD id with an empty disk lets a member without the committed entries win an election,
 * which the {@link InvariantChecker} reports.
 */
class DiskWipeRejoinTest {

  private static final long MS = 1_000;
  private static final long S = 1_000_000;

  private int written;

  /** Proposes one write through the current leader every 10 ms until {@code done} holds. */
  private void writeUntil(SimCluster c, BooleanSupplier done, long maxMicros) {
    long deadline = c.nowMicros() + maxMicros;
    while (!done.getAsBoolean()) {
      assertThat(c.nowMicros()).as("still not done after %d ms", maxMicros / MS).isLessThan(deadline);
      long leader = c.leader();
      if (leader != 0) {
        c.propose(leader, ("w" + written++).getBytes(StandardCharsets.UTF_8));
      }
      c.runFor(10 * MS);
    }
  }

  private static ConfState committedConf(SimCluster c) {
    return c.checker().configAt(c.checker().maxCommittedIndex());
  }

  /** Proposes {@code cc} through whoever leads, retrying (a pending change refuses it) until {@code done}. */
  private void changeUntil(SimCluster c, ConfChange cc, BooleanSupplier done) {
    long deadline = c.nowMicros() + 10 * S;
    while (!done.getAsBoolean()) {
      assertThat(c.nowMicros()).as("%s not committed in 10 s", cc).isLessThan(deadline);
      long leader = c.leader();
      if (leader != 0) {
        c.proposeConfChange(leader, cc);
        c.propose(leader, ("w" + written++).getBytes(StandardCharsets.UTF_8));
      }
      c.runFor(20 * MS);
    }
  }

  private void wipeAndRejoin(long seed, int members, boolean wipeLeader, boolean asLearner, int snapshotEvery) {
    SimCluster c = SimCluster.of(seed, SimOptions.defaults().withSnapshots(snapshotEvery, 2), members);
    long leader = c.awaitLeader(5 * S);
    writeUntil(c, () -> c.checker().maxCommittedIndex() >= 60, 10 * S);

    long victim = wipeLeader ? leader : c.nodes().stream().mapToLong(SimNode::id).filter(id -> id != leader).max()
        .orElseThrow();
    c.wipe(victim);
    assertThat(c.node(victim).isWiped()).isTrue();
    // writes keep flowing without it (a majority is left)
    long before = c.checker().maxCommittedIndex();
    writeUntil(c, () -> c.checker().maxCommittedIndex() >= before + 40, 10 * S);

    changeUntil(c, ConfChange.remove(victim), () -> !committedConf(c).isMember(victim));
    assertThat(c.checker().wasRemoved(victim)).isTrue();

    long fresh = members + 1;
    SimNode n = c.addNode(fresh);
    assertThat(n.disk().lastIndex()).isZero();
    if (asLearner) {
      changeUntil(c, ConfChange.addLearner(fresh), () -> committedConf(c).isLearner(fresh));
      writeUntil(c, () -> n.app().applied() >= c.checker().maxCommittedIndex() - 2, 10 * S);
    }
    changeUntil(c, ConfChange.addVoter(fresh), () -> committedConf(c).isVoter(fresh));
    long target = c.checker().maxCommittedIndex() + 30;
    writeUntil(c, () -> c.checker().maxCommittedIndex() >= target, 10 * S);

    // everyone of the new membership converges to the same applied state
    long marker = c.propose(c.awaitLeader(5 * S), "final".getBytes(StandardCharsets.UTF_8));
    assertThat(marker).isPositive();
    assertThat(c.runUntil(() -> c.nodes().stream().filter(m -> !m.isRetired())
        .allMatch(m -> m.isUp() && m.app().applied() >= marker), 10 * S)).isTrue();
    c.fullCheck();

    ConfState conf = committedConf(c);
    assertThat(conf.isMember(victim)).isFalse();
    assertThat(conf.voters()).hasSize(members).contains(fresh);
    long applied = n.app().applied();
    for (SimNode m : c.nodes()) {
      if (!m.isRetired()) {
        assertThat(m.app().applied()).as("member %d", m.id()).isEqualTo(applied);
        assertThat(m.app().hash()).as("member %d", m.id()).isEqualTo(n.app().hash());
      }
    }
    if (snapshotEvery > 0) {
      assertThat(c.snapshotsInstalled()).as("the new member caught up by snapshot").isPositive();
    }
  }

  @Test
  void threeMembersFollowerWipedRejoinsAsLearnerThenVoter() {
    wipeAndRejoin(11, 3, false, true, 0);
  }

  @Test
  void threeMembersFollowerWipedRejoinsByLeaderSnapshot() {
    wipeAndRejoin(12, 3, false, false, 20);
  }

  @Test
  void fiveMembersLeaderWipedRejoinsAsVoter() {
    wipeAndRejoin(13, 5, true, false, 0);
  }

  @Test
  void fiveMembersFollowerWipedRejoinsAsLearnerByLeaderSnapshot() {
    wipeAndRejoin(14, 5, false, true, 15);
  }

  /**
   * Members L (leader), A, B. B is cut off; L and A commit writes. A loses its disk and comes back
   * under its OLD id, empty. L is cut off; B campaigns and A, knowing nothing (no vote, no log), grants
   * it: B leads without the committed writes. The checker must say so. Done safely (A wiped and kept
   * out), B cannot win and nothing is reported.
   */
  @Test
  void rejoiningUnderTheOldIdWithAnEmptyDiskIsCaught() {
    int caught = 0;
    for (long seed = 1; seed <= 5; seed++) {
      if (unsafeRejoinViolates(seed, true)) { // deterministic: every seed is caught
        caught++;
      }
      assertThat(unsafeRejoinViolates(seed, false)).as("the safe procedure, seed %d", seed).isFalse();
    }
    assertThat(caught).as("seeds where the checker caught the unsafe rejoin").isEqualTo(5);
  }

  private boolean unsafeRejoinViolates(long seed, boolean unsafe) {
    SimCluster c = SimCluster.of(seed, SimOptions.defaults(), 3);
    long l = c.awaitLeader(5 * S);
    long[] others = c.nodes().stream().mapToLong(SimNode::id).filter(id -> id != l).toArray();
    long a = others[0];
    long b = others[1];
    c.network().partition(new long[] {l, a});
    writeUntil(c, () -> c.checker().maxCommittedIndex() >= 20, 5 * S);
    c.runFor(50 * MS);
    try {
      if (unsafe) {
        c.rejoinWithEmptyDiskUnsafe(a);
      } else {
        c.wipe(a);
      }
      c.network().partition(new long[] {a, b});
      c.runFor(10 * MS);
      c.campaign(b);
      c.runUntil(() -> c.node(b).isUp() && c.node(b).raft().role() == Role.LEADER, 3 * S);
      c.runFor(200 * MS);
      c.fullCheck();
      return false;
    } catch (InvariantViolation v) {
      assertThat(v.getMessage()).contains("committed");
      return true;
    }
  }

  @Test
  void aReAddedIdIsReported() {
    SimCluster c = SimCluster.of(21, SimOptions.defaults(), 3);
    long leader = c.awaitLeader(5 * S);
    long victim = leader == 3 ? 2 : 3;
    c.wipe(victim);
    changeUntil(c, ConfChange.remove(victim), () -> !committedConf(c).isMember(victim));
    assertThatThrownBy(() -> changeUntil(c, ConfChange.addVoter(victim), () -> committedConf(c).isVoter(victim)))
        .isInstanceOf(InvariantViolation.class).hasMessageContaining("brings back member id " + victim);
  }
}
