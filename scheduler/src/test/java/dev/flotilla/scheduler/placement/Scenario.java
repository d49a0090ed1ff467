package dev.flotilla.scheduler.placement;

import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.fleet.XFleetOptions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A random cluster and workload from a seed: machines with metadata and capacity, global units,
 * and units with every kind of constraint (including ones that can never be met).
 */
record Scenario(List<Machine> machines, List<XFleetOptions> globals, List<XFleetOptions> units) {

  static final long GIB = 1L << 30;

  private static final String[] CONFLICT_GLOBS =
      {"web@*.service", "db*", "*.socket", "u1*", "db1.service", "nomatch*", "*", "web@?.service"};
  private static final String[] REPLACE_GLOBS = {"db*", "web@1*", "*.socket", "u2*"};

  static Scenario generate(long seed, int machineCount, int unitCount) {
    return generate(seed, machineCount, unitCount, 0.0);
  }

  /** {@code rareShare}: fraction of machines with the rare metadata gpu=yes (exercises the index). */
  static Scenario generate(long seed, int machineCount, int unitCount, double rareShare) {
    Random r = new Random(seed);
    List<Machine> machines = new ArrayList<>();
    for (int i = 0; i < machineCount; i++) {
      Map<String, String> md = new HashMap<>();
      if (r.nextInt(4) != 0) {
        md.put("region", "r" + r.nextInt(3));
      }
      if (r.nextBoolean()) {
        md.put("disk", r.nextBoolean() ? "ssd" : "hdd");
      }
      if (r.nextDouble() < rareShare) {
        md.put("gpu", "yes");
      }
      machines.add(new Machine(String.format("m%03d", i), md,
          new Resources(500L * (1 + r.nextInt(8)), GIB * (1 + r.nextInt(8)))));
    }
    List<XFleetOptions> globals = new ArrayList<>();
    int globalCount = r.nextInt(3);
    for (int i = 0; i < globalCount; i++) {
      XFleetOptions.Builder g = XFleetOptions.builder("g" + i + ".service").global(true);
      if (r.nextBoolean()) {
        g.metadata("region", "r" + r.nextInt(3));
      }
      globals.add(g.build());
    }
    List<String> names = new ArrayList<>();
    for (int i = 0; i < unitCount; i++) {
      names.add(switch (i % 3) {
        case 0 -> "web@" + i + ".service";
        case 1 -> "db" + i + ".service";
        default -> "u" + i + ".socket";
      });
    }
    List<XFleetOptions> units = new ArrayList<>();
    for (String name : names) {
      XFleetOptions.Builder b = XFleetOptions.builder(name);
      if (r.nextInt(12) == 0 && machineCount > 0) {
        b.machineId(r.nextInt(6) == 0 ? "nowhere" : machines.get(r.nextInt(machineCount)).id());
      } else if (r.nextInt(8) == 0) {
        if (!globals.isEmpty() && r.nextInt(3) == 0) {
          b.machineOf(globals.get(r.nextInt(globals.size())).unit());
        } else {
          String target = names.get(r.nextInt(names.size()));
          if (!target.equals(name)) {
            b.machineOf(target);
          }
        }
      }
      if (r.nextInt(3) == 0) {
        b.metadata("region", "r" + r.nextInt(3));
        if (r.nextBoolean()) {
          b.metadata("region", "r" + r.nextInt(3));
        }
      }
      if (r.nextInt(5) == 0) {
        b.metadata("disk", "ssd");
      }
      if (rareShare > 0 && r.nextInt(4) == 0) {
        b.metadata("gpu", "yes");
      }
      if (r.nextInt(3) == 0) {
        b.conflicts(CONFLICT_GLOBS[r.nextInt(CONFLICT_GLOBS.length)]);
      }
      if (r.nextInt(8) == 0) {
        b.replaces(REPLACE_GLOBS[r.nextInt(REPLACE_GLOBS.length)]);
      }
      if (r.nextBoolean()) {
        b.reservation(new Resources(250L * r.nextInt(8), (GIB / 4) * r.nextInt(12)));
      }
      units.add(b.build());
    }
    Collections.shuffle(units, r);
    return new Scenario(List.copyOf(machines), List.copyOf(globals), List.copyOf(units));
  }

  ClusterState cluster() {
    ClusterState s = ClusterState.of(machines);
    globals.forEach(s::putGlobal);
    return s;
  }

  /** The same cluster built with machines added in another order. */
  ClusterState clusterShuffled(long seed) {
    List<Machine> shuffled = new ArrayList<>(machines);
    Collections.shuffle(shuffled, new Random(seed));
    ClusterState s = ClusterState.of(shuffled);
    globals.forEach(s::putGlobal);
    return s;
  }
}
