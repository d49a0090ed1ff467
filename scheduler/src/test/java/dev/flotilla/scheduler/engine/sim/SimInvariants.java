package dev.flotilla.scheduler.engine.sim;

import dev.flotilla.scheduler.engine.MachineUnits;
import dev.flotilla.scheduler.fleet.InvalidUnitException;
import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.fleet.XFleetOptions;
import dev.flotilla.scheduler.placement.ClusterState;
import dev.flotilla.scheduler.placement.Decision;
import dev.flotilla.scheduler.placement.Machine;
import dev.flotilla.scheduler.placement.Placement;
import dev.flotilla.scheduler.registry.DesiredState;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.UnitRecord;
import dev.flotilla.scheduler.registry.Versioned;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What must hold of the registry once the engine leader has run: checked from the registry alone,
 * with the rules restated naively here (not through the engine's view).
 */
public final class SimInvariants {

  private SimInvariants() {}

  /** Every violation; empty when all hold. */
  public static List<String> violations(SimCluster sim) {
    List<String> out = new ArrayList<>();
    Map<String, MachineRecord> machines = new TreeMap<>();
    sim.registry.machines().forEach(m -> machines.put(m.id(), m));
    Map<String, UnitRecord> units = new TreeMap<>();
    Map<String, XFleetOptions> options = new TreeMap<>();
    for (Versioned<UnitRecord> v : sim.registry.units()) {
      UnitRecord r = v.value();
      units.put(r.name().name(), r);
      try {
        // names are never reused in a simulation, so a unit's options can be kept
        options.put(r.name().name(), sim.parsed.computeIfAbsent(r.name().name(),
            n -> XFleetOptions.parse(r.name(), r.file())));
      } catch (InvalidUnitException e) {
        out.add("invalid unit in the registry: " + e.getMessage());
      }
    }
    Map<String, String> schedule = sim.registry.assignments();
    Map<String, String> reasons = sim.registry.unscheduledReasons();
    TreeMap<String, List<XFleetOptions>> byMachine = new TreeMap<>();

    // active global units: desired loaded or launched
    Map<String, XFleetOptions> globals = new TreeMap<>();
    options.forEach((n, o) -> {
      if (o.global() && units.get(n).desiredState() != DesiredState.INACTIVE && !units.get(n).name().isTemplate()) {
        globals.put(n, o);
      }
    });

    for (Map.Entry<String, String> a : schedule.entrySet()) {
      String name = a.getKey();
      String host = a.getValue();
      UnitRecord r = units.get(name);
      XFleetOptions o = options.get(name);
      if (r == null || o == null) {
        out.add(name + " is scheduled on " + host + " but is not a valid submitted unit");
        continue;
      }
      if (r.desiredState() == DesiredState.INACTIVE || r.name().isTemplate() || o.global()) {
        out.add(name + " (" + r.desiredState().json() + (o.global() ? ", global" : "") + ") is scheduled on " + host);
      }
      MachineRecord m = machines.get(host);
      SimCluster.Agent agent = sim.agents.get(host);
      if (m == null) {
        out.add(name + " is scheduled on " + host + ", which is not present");
        continue;
      }
      if (agent != null && sim.now - agent.lastPublish >= sim.machineTtlSeconds * SimCluster.SECOND) {
        out.add(name + " is on " + host + ", silent for " + (sim.now - agent.lastPublish) / SimCluster.SECOND
            + "s, longer than the " + sim.machineTtlSeconds + "s TTL");
      }
      byMachine.computeIfAbsent(host, h -> new ArrayList<>()).add(o);
      if (o.machineId().isPresent() && !o.machineId().get().equals(host)) {
        out.add(name + " has MachineID=" + o.machineId().get() + " but is on " + host);
      }
      if (!metadataMatches(o, m.metadata())) {
        out.add(name + " needs " + o.metadata().describe() + " but " + host + " has " + m.metadata());
      }
      for (String target : o.machineOf()) {
        XFleetOptions g = globals.get(target);
        boolean ok = g != null ? metadataMatches(g, m.metadata()) : host.equals(schedule.get(target));
        if (!ok) {
          out.add(name + " has MachineOf=" + target + " but " + target + " is "
              + (g != null ? "global, not matching " + host : "on " + schedule.get(target) + ", not " + host));
        }
      }
      if (reasons.containsKey(name)) {
        out.add(name + " is scheduled but still has the reason '" + reasons.get(name) + "'");
      }
    }
    byMachine.forEach((host, here) -> {
      Resources sum = Resources.NONE;
      for (XFleetOptions a : here) {
        sum = sum.plus(a.reservation());
        for (XFleetOptions b : here) {
          if (a == b) {
            continue;
          }
          if (a.conflictsWith(b.unit())) {
            out.add(a.unit() + " conflicts with " + b.unit() + " and both are on " + host);
          }
          if (a.replaces(b.unit()) && !b.replaces(a.unit())) {
            out.add(a.unit() + " replaces " + b.unit() + " and both are on " + host);
          }
        }
      }
      Resources cap = machines.get(host).capacity();
      if (!cap.covers(sum)) {
        out.add(host + " has " + sum + " reserved of " + cap);
      }
    });

    // global units: on exactly the present machines matching them, as each agent works it out
    List<XFleetOptions> active = new ArrayList<>(globals.values());
    for (MachineRecord m : machines.values()) {
      SortedSet<String> runs = MachineUnits.of(m, active, schedule);
      TreeSet<String> expected = new TreeSet<>();
      globals.forEach((n, g) -> {
        if (metadataMatches(g, m.metadata())) {
          expected.add(n);
        }
      });
      schedule.forEach((u, h) -> {
        if (h.equals(m.id())) {
          expected.add(u);
        }
      });
      if (!runs.equals(expected)) {
        out.add(m.id() + " would run " + runs + ", expected " + expected);
      }
    }

    // a global unit says why when it matches no machine, and only then
    globals.forEach((n, g) -> {
      boolean somewhere = machines.values().stream().anyMatch(m -> metadataMatches(g, m.metadata()));
      boolean hasReason = reasons.containsKey(n) && !reasons.get(n).isEmpty();
      if (somewhere == hasReason) {
        out.add("global " + n + (somewhere ? " runs somewhere but has the reason '" + reasons.get(n) + "'"
            : " matches no machine but has no reason recorded"));
      }
    });

    // every placeable unit placed: against the schedule as it is, no unscheduled active unit fits
    ClusterState cluster = new ClusterState();
    machines.values().forEach(m -> cluster.putMachine(new Machine(m.id(), m.metadata(), m.capacity())));
    globals.values().forEach(cluster::putGlobal);
    schedule.forEach((u, h) -> {
      XFleetOptions o = options.get(u);
      if (o != null && !o.global() && cluster.machine(h).isPresent()) {
        cluster.assign(o, h);
      }
    });
    for (Map.Entry<String, XFleetOptions> e : options.entrySet()) {
      UnitRecord r = units.get(e.getKey());
      XFleetOptions o = e.getValue();
      if (o.global() || r.desiredState() == DesiredState.INACTIVE || r.name().isTemplate()
          || schedule.containsKey(e.getKey())) {
        continue;
      }
      Decision d = Placement.decide(o, cluster);
      if (d instanceof Decision.Place p) {
        out.add(e.getKey() + " (" + r.desiredState().json() + ") is not scheduled but fits on " + p.machineId()
            + (p.displaced().isEmpty() ? "" : " displacing " + p.displaced()));
      }
      if (!reasons.containsKey(e.getKey()) || reasons.get(e.getKey()).isEmpty()) {
        out.add(e.getKey() + " (" + r.desiredState().json() + ") is not scheduled and has no reason recorded");
      }
    }
    return out;
  }

  /** Naive restatement: each key the unit names must have one of its values on the machine. */
  static boolean metadataMatches(XFleetOptions o, Map<String, String> machine) {
    for (Map.Entry<String, SortedSet<String>> e : o.metadata().allowed().entrySet()) {
      String have = machine.get(e.getKey());
      if (have == null || !e.getValue().contains(have)) {
        return false;
      }
    }
    return true;
  }
}
