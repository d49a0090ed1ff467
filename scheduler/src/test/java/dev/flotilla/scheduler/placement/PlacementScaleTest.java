package dev.flotilla.scheduler.placement;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.fleet.XFleetOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * 10,000 units over 1,000 machines. Measures and prints (see the surefire output file); asserts
 * only outcomes, never times (benchmarks with targets live in bench/).
 */
class PlacementScaleTest {

  private static final long GIB = 1L << 30;
  private static final int MACHINES = 1_000;

  static List<Machine> machines() {
    List<Machine> out = new ArrayList<>();
    String[] roles = {"frontend", "backend", "batch"};
    for (int i = 0; i < MACHINES; i++) {
      Map<String, String> md = new java.util.HashMap<>();
      md.put("region", "r" + (i % 4));
      md.put("disk", i % 3 == 0 ? "ssd" : "hdd");
      md.put("role", roles[(i / 3) % 3]);
      if (i % 50 == 0) {
        md.put("gpu", "yes");
      }
      out.add(new Machine(String.format("%032x", (long) i * 0x9E3779B97F4A7C15L), md, new Resources(16_000, 64 * GIB)));
    }
    return out;
  }

  /**
   * 5,000 instances of 10 templates that conflict with their own kind, 2,000 sidecars following
   * them with MachineOf, 1,500 region-bound and 1,000 ssd/role-bound units, 100 gpu units, 100
   * units that replace others, 300 plain ones; most with reservations. All can be placed.
   */
  static List<XFleetOptions> workload(long seed) {
    Random r = new Random(seed);
    List<XFleetOptions> units = new ArrayList<>();
    for (int k = 0; k < 10; k++) {
      for (int i = 0; i < 500; i++) {
        units.add(XFleetOptions.builder("app" + k + "@" + i + ".service").conflicts("app" + k + "@*.service")
            .reservation(new Resources(250 + 250L * r.nextInt(4), (256L << 20) * (1 + r.nextInt(4)))).build());
      }
    }
    for (int k = 0; k < 10; k++) {
      for (int i = 0; i < 200; i++) {
        units.add(XFleetOptions.builder("log" + k + "@" + i + ".service").machineOf("app" + k + "@" + i + ".service")
            .reservation(new Resources(100, 64L << 20)).build());
      }
    }
    for (int i = 0; i < 1_500; i++) {
      units.add(XFleetOptions.builder("regional-" + i + ".service").metadata("region", "r" + r.nextInt(4))
          .metadata("region", "r" + r.nextInt(4)).reservation(new Resources(500, GIB)).build());
    }
    for (int i = 0; i < 1_000; i++) {
      units.add(XFleetOptions.builder("db-" + i + ".service").metadata("disk", "ssd").metadata("role", "backend")
          .reservation(new Resources(1000, 2 * GIB)).build());
    }
    for (int i = 0; i < 100; i++) {
      units.add(XFleetOptions.builder("gpu-" + i + ".service").metadata("gpu", "yes")
          .reservation(new Resources(2000, 4 * GIB)).build());
    }
    for (int i = 0; i < 100; i++) {
      units.add(XFleetOptions.builder("v2-" + i + ".service").replaces("regional-" + i + ".service").build());
    }
    for (int i = 0; i < 300; i++) {
      units.add(XFleetOptions.none("plain-" + i + ".service"));
    }
    Collections.shuffle(units, r);
    return units;
  }

  @Test
  void tenThousandUnitsOnAThousandMachines() {
    List<Machine> machines = machines();
    List<XFleetOptions> units = workload(42);
    assertThat(units).hasSize(10_000);

    int runs = 7;
    long[] nanos = new long[runs];
    ClusterState first = null;
    Planner.Plan firstPlan = null;
    for (int run = 0; run < runs; run++) {
      ClusterState s = ClusterState.of(machines);
      long t0 = System.nanoTime();
      Planner.Plan plan = Planner.place(units, s);
      nanos[run] = System.nanoTime() - t0;
      if (first == null) {
        first = s;
        firstPlan = plan;
      } else {
        assertThat(s.schedule()).as("deterministic").isEqualTo(first.schedule());
      }
    }
    assertThat(firstPlan.placedCount()).isEqualTo(10_000);
    assertThat(first.scheduledCount()).isEqualTo(10_000);
    assertThat(Constraints.violations(first)).isEmpty();
    int min = Integer.MAX_VALUE;
    int max = 0;
    for (Machine m : machines) {
      int n = first.unitsOn(m.id()).size();
      min = Math.min(min, n);
      max = Math.max(max, n);
    }
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    System.out.printf("SCALE placed %d units on %d machines: first (cold JVM) %.1f ms, warm median %.1f ms, "
            + "warm best %.1f ms (%.1f µs per unit); moved by Replaces: %d; units per machine %d..%d%n",
        firstPlan.placedCount(), MACHINES, nanos[0] / 1e6, sorted[runs / 2] / 1e6, sorted[0] / 1e6,
        sorted[0] / 1e3 / units.size(), firstPlan.moved().size(), min, max);
  }

  @Test
  void mostlyUnschedulableWorkloadStillCompletes() {
    // 2,000 instances of one template that conflicts with itself: 1,000 fit, 1,000 get a reason,
    // each after a full scan and an explanation (the worst case for decide())
    List<Machine> machines = machines();
    List<XFleetOptions> units = new ArrayList<>();
    for (int i = 0; i < 2_000; i++) {
      units.add(XFleetOptions.builder("web@" + i + ".service").conflicts("web@*.service").build());
    }
    for (int run = 0; run < 3; run++) {
      ClusterState s = ClusterState.of(machines);
      long t0 = System.nanoTime();
      Planner.Plan plan = Planner.place(units, s);
      long ns = System.nanoTime() - t0;
      assertThat(plan.placedCount()).isEqualTo(1_000);
      Decision last = plan.decisions().get("web@1999.service");
      assertThat(last).isInstanceOf(Decision.Unschedulable.class);
      assertThat(((Decision.Unschedulable) last).message())
          .startsWith("conflicts on every eligible machine: ").endsWith("(and 997 more)");
      if (run == 2) {
        System.out.printf("SCALE 2,000 self-conflicting instances on %d machines (1,000 unschedulable): %.1f ms%n",
            MACHINES, ns / 1e6);
      }
    }
  }
}
