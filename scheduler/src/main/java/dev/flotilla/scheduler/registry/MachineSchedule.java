package dev.flotilla.scheduler.registry;

import java.util.Map;

/**
 * The agent's view of the schedule: only the units assigned to its own machine, each with its
 * desired state, and a watch of those entries alone — so a change elsewhere in the cluster wakes
 * no agent but the one it concerns.
 */
public interface MachineSchedule {

  /** The units on a machine with their desired states, read at {@code revision}. */
  record Assigned(long revision, Map<String, DesiredState> units) {
    public Assigned {
      units = Map.copyOf(units);
    }
  }

  Assigned assignedTo(String machineId);

  /**
   * {@link RegistryEvent.AssignmentChanged} for each unit put on, taken off, or changing desired
   * state on {@code machineId}, from {@code fromRevision} on (to miss nothing after
   * {@link #assignedTo}, pass its revision + 1).
   */
  RegistryWatch watchAssignedTo(String machineId, long fromRevision);

  /**
   * The global units ({@code Global=true}, valid, not templates) with their desired states, read
   * at a revision. The engine never assigns them; every agent runs those whose
   * {@code MachineMetadata=} its own metadata matches. Kept apart from the unit documents so that
   * agents watch these few keys, not every unit.
   */
  Assigned globals();

  /**
   * {@link RegistryEvent.AssignmentChanged} for each global unit submitted, changing desired
   * state or destroyed, from {@code fromRevision} on (pass {@link #globals}' revision + 1).
   */
  RegistryWatch watchGlobals(long fromRevision);
}
