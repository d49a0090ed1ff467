package dev.flotilla.raft.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flotilla.raft.core.ConfState;
import org.junit.jupiter.api.Test;

/** The checker's own logic, and that the harness replays a seed exactly. */
class InvariantCheckerTest {

  @Test
  void oneVoterChangesNeverAllowDisjointMajoritiesButTwoCan() {
    ConfState three = ConfState.ofVoters(1, 2, 3);
    assertThat(InvariantChecker.disjointMajoritiesPossible(three, ConfState.ofVoters(1, 2, 3, 4))).isFalse();
    assertThat(InvariantChecker.disjointMajoritiesPossible(three, ConfState.ofVoters(1, 2))).isFalse();
    assertThat(InvariantChecker.disjointMajoritiesPossible(ConfState.ofVoters(1, 2, 3, 4), ConfState.ofVoters(2, 3, 4, 5)))
        .isFalse();
    // {1,2} is a majority of {1,2,3}; {3,4,5} of {1,2,3,4,5}
    assertThat(InvariantChecker.disjointMajoritiesPossible(three, ConfState.ofVoters(1, 2, 3, 4, 5))).isTrue();
    assertThat(InvariantChecker.disjointMajoritiesPossible(three, ConfState.ofVoters(4, 5, 6))).isTrue();
  }

  @Test
  void aScheduleIsAPureFunctionOfItsSeed() {
    RandomSchedule.Result a = new RandomSchedule(4242, null).run();
    RandomSchedule.Result b = new RandomSchedule(4242, null).run();
    assertThat(a).isEqualTo(b);
    assertThat(a.events()).isPositive();
  }

  @Test
  void twoLeadersInOneTermAreReported() {
    SimCluster c = SimCluster.of(7, SimOptions.defaults(), 3);
    c.awaitLeader(5_000_000);
    InvariantChecker checker = new InvariantChecker();
    checker.afterEvent(c.nodes());
    // a second checker that saw another member lead the same term must object
    long leader = c.leader();
    SimNode other = c.nodes().stream().filter(n -> n.id() != leader).findFirst().orElseThrow();
    assertThatThrownBy(() -> checker.recordLeaderForTest(c.node(leader).raft().term(), other.id()))
        .isInstanceOf(InvariantViolation.class).hasMessageContaining("two leaders in term");
  }
}
