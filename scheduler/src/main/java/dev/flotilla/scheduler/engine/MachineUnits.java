package dev.flotilla.scheduler.engine;

import dev.flotilla.scheduler.fleet.InvalidUnitException;
import dev.flotilla.scheduler.fleet.XFleetOptions;
import dev.flotilla.scheduler.registry.DesiredState;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.UnitRecord;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The units one machine should have: those the schedule assigns to it, and the global units
 * (desired loaded or launched) whose {@code MachineMetadata=} its metadata matches. The engine
 * never writes global units into the schedule; each agent works them out with this, from its
 * own metadata, as fleet's agents did.
 */
public final class MachineUnits {

  private MachineUnits() {}

  /** The global units that run somewhere: valid, not templates, desired loaded or launched. */
  public static List<XFleetOptions> activeGlobals(Collection<UnitRecord> units) {
    List<XFleetOptions> out = new ArrayList<>();
    for (UnitRecord u : units) {
      if (u.desiredState() == DesiredState.INACTIVE || u.name().isTemplate()) {
        continue;
      }
      try {
        XFleetOptions o = XFleetOptions.parse(u.name(), u.file());
        if (o.global()) {
          out.add(o);
        }
      } catch (InvalidUnitException e) {
        // never runs anywhere; the engine records why
      }
    }
    return out;
  }

  /** What {@code machine} runs: its assignments in {@code schedule} and the globals matching it. */
  public static SortedSet<String> of(MachineRecord machine, Collection<XFleetOptions> activeGlobals,
      Map<String, String> schedule) {
    TreeSet<String> out = new TreeSet<>();
    schedule.forEach((unit, host) -> {
      if (host.equals(machine.id())) {
        out.add(unit);
      }
    });
    for (XFleetOptions g : activeGlobals) {
      if (g.metadata().matches(machine.metadata())) {
        out.add(g.unit());
      }
    }
    return out;
  }
}
