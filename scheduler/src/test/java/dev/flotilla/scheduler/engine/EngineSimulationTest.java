package dev.flotilla.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.scheduler.engine.sim.SimCluster;
import dev.flotilla.scheduler.engine.sim.SimInvariants;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Seeded simulations of one engine over a random, changing cluster: machines with metadata and
 * capacity that die, come back and get their metadata patched; units with every constraint that
 * are submitted, started, stopped and destroyed; watches that break. After every simulated second
 * (once the engine has run), {@link SimInvariants} must hold. A failure prints the seed and the
 * command that replays it.
 */
class EngineSimulationTest {

  private static final int SEEDS = Integer.getInteger("sim.seeds", 40);
  private static final int SECONDS = Integer.getInteger("sim.seconds", 300);

  @Test
  void invariantsHoldOnRandomClusters() {
    Long replay = Long.getLong("sim.seed");
    if (replay != null) { // -Dsim.seed=N (with -Dsim.seconds): one seed, as printed by a failure
      SimCluster sim = run(replay, SECONDS);
      System.out.println("seed " + replay + ": " + sim.registry.assignments().size() + " scheduled, "
          + sim.registry.unscheduledReasons() + " unscheduled, engine " + sim.engines.get(0).engine.stats());
      return;
    }
    long base = Long.getLong("sim.base", 0x5EED_0000L);
    long placed = 0;
    long unschedulable = 0;
    for (int i = 0; i < SEEDS; i++) {
      SimCluster sim = run(base + i, SECONDS);
      placed += sim.registry.assignments().size();
      unschedulable += sim.registry.unscheduledReasons().size();
    }
    System.out.printf("%d seeds from %d, %d s each: %d units scheduled and %d unschedulable at the ends%n", SEEDS, base,
        SECONDS, placed, unschedulable);
    // the workload must exercise both outcomes, or the invariants say little
    assertThat(placed).as("units scheduled at the end, over all seeds").isGreaterThan(SEEDS * 5L);
    assertThat(unschedulable).as("units left unschedulable with a reason, over all seeds").isGreaterThan(SEEDS);
  }

  static SimCluster run(long seed, int seconds) {
    SimCluster sim = new SimCluster(seed, 1, 10, 5);
    int machines = 3 + sim.random.nextInt(8);
    for (int i = 0; i < machines; i++) {
      sim.addMachine();
    }
    for (int t = 0; t < seconds; t++) {
      sim.step();
      check(sim);
    }
    // then quiet: every dead machine's lease runs out, the engine settles
    for (int t = 0; t < 15; t++) {
      sim.quietStep();
      check(sim);
    }
    return sim;
  }

  private static void check(SimCluster sim) {
    List<String> v = SimInvariants.violations(sim);
    if (!v.isEmpty()) {
      throw new AssertionError(String.join("\n  ", v) + "\n" + sim.replay(EngineSimulationTest.class.getSimpleName()));
    }
  }
}
