package dev.flotilla.scheduler.placement;

import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.fleet.XFleetOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An independent, deliberately naive statement of the placement rules, used to check
 * {@link Placement} and {@link Planner}: everything is recomputed from the schedule alone.
 */
final class Constraints {

  private Constraints() {}

  /** Every violation in a schedule; empty when all constraints hold. */
  static List<String> violations(ClusterState s) {
    List<String> out = new ArrayList<>();
    Map<String, String> schedule = s.schedule();
    for (Map.Entry<String, String> e : schedule.entrySet()) {
      XFleetOptions u = s.scheduledUnit(e.getKey()).orElseThrow();
      String id = e.getValue();
      Optional<Machine> m = s.machine(id);
      if (m.isEmpty()) {
        out.add(u.unit() + " on missing machine " + id);
        continue;
      }
      if (u.machineId().isPresent() && !u.machineId().get().equals(id)) {
        out.add(u.unit() + " has MachineID=" + u.machineId().get() + " but is on " + id);
      }
      for (String target : u.machineOf()) {
        Optional<XFleetOptions> g = s.global(target);
        boolean ok = g.isPresent() ? g.get().metadata().matches(m.get().metadata()) : id.equals(schedule.get(target));
        if (!ok) {
          out.add(u.unit() + " has MachineOf=" + target + " but " + target + " is on " + schedule.get(target)
              + ", not " + id);
        }
      }
      if (!u.metadata().matches(m.get().metadata())) {
        out.add(u.unit() + " needs " + u.metadata() + " but " + id + " has " + m.get().metadata());
      }
    }
    for (Machine m : s.machines()) {
      List<XFleetOptions> here = s.unitsOn(m.id());
      Resources sum = Resources.NONE;
      for (XFleetOptions a : here) {
        sum = sum.plus(a.reservation());
        for (XFleetOptions b : here) {
          if (a == b) {
            continue;
          }
          if (a.conflictsWith(b.unit())) {
            out.add(a.unit() + " conflicts with " + b.unit() + " on " + m.id());
          }
          if (a.replaces(b.unit()) && !b.replaces(a.unit())) {
            out.add(a.unit() + " replaces " + b.unit() + " but both are on " + m.id());
          }
        }
      }
      if (!m.capacity().covers(sum)) {
        out.add(m.id() + " reserves " + sum + " of " + m.capacity());
      }
    }
    return out;
  }

  /**
   * Whether {@code u} could run on machine {@code id} now, moving only units it replaces; the
   * units it would move go into {@code displaced}.
   */
  /** {@code unit} and every scheduled unit following it, directly or through others. */
  static java.util.Set<String> leavingWith(String unit, ClusterState s) {
    java.util.Set<String> leaving = new java.util.HashSet<>(List.of(unit));
    boolean grew = true;
    while (grew) {
      grew = false;
      for (String name : s.schedule().keySet()) {
        XFleetOptions f = s.scheduledUnit(name).orElseThrow();
        if (!leaving.contains(name) && f.machineOf().stream().anyMatch(leaving::contains)) {
          leaving.add(name);
          grew = true;
        }
      }
    }
    return leaving;
  }

  static boolean feasible(XFleetOptions u, String id, ClusterState s, List<String> displaced) {
    displaced.clear();
    Machine m = s.machine(id).orElseThrow();
    if (u.machineId().isPresent() && !u.machineId().get().equals(id)) {
      return false;
    }
    for (String target : u.machineOf()) {
      Optional<XFleetOptions> g = s.global(target);
      if (g.isPresent() ? !g.get().metadata().matches(m.metadata()) : !s.hostOf(target).equals(Optional.of(id))) {
        return false;
      }
    }
    if (!u.metadata().matches(m.metadata())) {
      return false;
    }
    Resources used = Resources.NONE;
    for (XFleetOptions o : s.unitsOn(id)) {
      boolean mine = u.replaces(o.unit()) && !o.replaces(u.unit());
      boolean theirs = o.replaces(u.unit()) && !u.replaces(o.unit());
      if (mine && u.machineOf().stream().anyMatch(leavingWith(o.unit(), s)::contains)) {
        return false; // what it must follow would leave with the displaced unit
      }
      if (mine) {
        displaced.add(o.unit());
        continue;
      }
      if (theirs || u.conflictsWith(o.unit()) || o.conflictsWith(u.unit())) {
        return false;
      }
      used = used.plus(o.reservation());
    }
    return m.capacity().covers(used.plus(u.reservation()));
  }
}
