package dev.flotilla.bench.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The scale benchmark at CI size: 10,000 units over 1,000 machines on a kvd member in process,
 * then 10 machines withdrawn. Asserts outcomes only (every unit placed, every constraint kept,
 * nothing left on a withdrawn machine, the engine's writes batched); the times are printed, and
 * recorded from full-size runs in bench/RESULTS.md.
 */
class FleetScaleTest {

    @Test
    void tenThousandUnitsOnAThousandMachinesArePlacedAndMovedOffDeadMachines() throws Exception {
        FleetScale.Result r = FleetScale.of(1_000, 10_000, 10).run();
        System.out.println(FleetScale.report(r));

        assertThat(r.violations()).isEmpty();
        assertThat(r.units()).isEqualTo(10_000);
        assertThat(r.assignments()).as("each unit placed once, plus the moves").isGreaterThanOrEqualTo(10_000);
        assertThat(r.failedWrites()).as("nobody else writes the schedule").isZero();
        // one txn per unit and a read back of each was ~5 requests per placement; batched, ~0.02
        assertThat(r.engineRequestsPerPlacement()).as("store requests per placement").isLessThan(0.1);
    }
}
