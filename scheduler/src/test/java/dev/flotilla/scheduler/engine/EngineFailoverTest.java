package dev.flotilla.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.scheduler.engine.sim.SimCluster;
import dev.flotilla.scheduler.engine.sim.SimInvariants;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Engine failover over the in-memory lease: three engines, one leads; it dies (or stops, and
 * comes back later) while the cluster keeps changing. Another engine must lead within one lease
 * TTL of the death, nothing may be lost or scheduled twice, and a leader that was away must not
 * write once it is back.
 */
class EngineFailoverTest {

  private static final long LEASE_TTL = 5;
  private static final int SEEDS = Integer.getInteger("sim.seeds", 20);

  @Test
  void anotherEngineTakesOverWithinOneLeaseTtl() {
    Long replay = Long.getLong("sim.seed"); // -Dsim.seed=N (-Dsim.pause=true): one failover, as printed
    if (replay != null) {
      failover(replay, Boolean.getBoolean("sim.pause"));
      return;
    }
    for (int i = 0; i < SEEDS; i++) {
      failover(0xFA11_0000L + i, false);
    }
  }

  @Test
  void aLeaderBackFromAPauseWritesNothing() {
    for (int i = 0; i < SEEDS; i++) {
      failover(0xFA11_1000L + i, true);
    }
  }

  @Test
  void quietFailoverKeepsTheScheduleAsItWas() {
    SimCluster sim = new SimCluster(42, 2, 10, LEASE_TTL);
    for (int i = 0; i < 6; i++) {
      sim.addMachine();
    }
    for (int i = 0; i < 40; i++) {
      sim.submitRandomUnit();
    }
    sim.quietStep();
    SimCluster.EngineProc first = sim.leader();
    assertThat(first).isNotNull();
    Map<String, String> before = sim.registry.assignments();
    Map<String, String> reasonsBefore = sim.registry.unscheduledReasons();
    assertThat(before).isNotEmpty();
    sim.killEngine(first);
    long killedAt = sim.now;
    while (sim.leader() == null) {
      sim.quietStep();
    }
    assertThat(sim.leader()).isNotSameAs(first);
    assertThat(sim.now - killedAt).isLessThanOrEqualTo((LEASE_TTL + 1) * SimCluster.SECOND);
    // the new leader read everything and found nothing to change: not one unit moved
    assertThat(sim.registry.assignments()).isEqualTo(before);
    assertThat(sim.registry.unscheduledReasons()).isEqualTo(reasonsBefore);
    assertThat(sim.leader().engine.stats().assignments()).isZero();
    assertThat(sim.leader().engine.stats().unassignments()).isZero();
    assertThat(SimInvariants.violations(sim)).isEmpty();
  }

  private static void failover(long seed, boolean pauseInsteadOfKill) {
    SimCluster sim = new SimCluster(seed, 3, 10, LEASE_TTL);
    String replay = " (" + sim.replay(EngineFailoverTest.class.getSimpleName())
        + (pauseInsteadOfKill ? " -Dsim.pause=true" : "") + ")";
    int machines = 4 + sim.random.nextInt(6);
    for (int i = 0; i < machines; i++) {
      sim.addMachine();
    }
    for (int t = 0; t < 60; t++) {
      sim.step();
      check(sim, replay);
    }
    SimCluster.EngineProc old = sim.leader();
    assertThat(old).as("a leader after 60 s" + replay).isNotNull();
    Engine.Stats oldStats = old.engine.stats();
    long awayAt = sim.now;
    long backAt = awayAt + 3 * LEASE_TTL * SimCluster.SECOND;
    if (pauseInsteadOfKill) {
      sim.pauseEngine(old, backAt);
    } else {
      sim.killEngine(old);
    }
    long takeover = -1;
    for (int t = 0; t < 120; t++) {
      sim.step();
      SimCluster.EngineProc leader = sim.leader();
      if (leader != null && takeover < 0) {
        takeover = sim.now;
        assertThat(leader).as("the new leader" + replay).isNotSameAs(old);
      }
      if (leader != null) {
        check(sim, replay);
      }
      if (pauseInsteadOfKill && sim.now - backAt >= 0) {
        // back from the pause: it saw its lease lapse, so it wrote nothing and follows
        assertThat(old.engine.isLeader()).as("the paused engine leads again at t=" + sim.now + replay).isFalse();
        Engine.Stats s = old.engine.stats();
        assertThat(s.assignments() + s.unassignments()).as("schedule writes by the engine that was away" + replay)
            .isEqualTo(oldStats.assignments() + oldStats.unassignments());
      }
    }
    assertThat(takeover).as("a new leader" + replay).isPositive();
    assertThat(takeover - awayAt).as("time to a new leader" + replay)
        .isLessThanOrEqualTo((LEASE_TTL + 1) * SimCluster.SECOND);
    // nothing lost: every active unit is scheduled or has a reason (the invariants), and the new
    // leader did the work: it placed units submitted after the failover
    List<String> v = SimInvariants.violations(sim);
    assertThat(v).as("at the end" + replay).isEmpty();
  }

  private static void check(SimCluster sim, String replay) {
    List<String> v = SimInvariants.violations(sim);
    if (!v.isEmpty()) {
      throw new AssertionError(String.join("\n  ", v) + replay);
    }
  }
}
