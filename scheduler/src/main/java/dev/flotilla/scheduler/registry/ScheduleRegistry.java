package dev.flotilla.scheduler.registry;

import java.util.Map;
import java.util.Optional;

/**
 * The schedule: which machine each non-global unit is assigned to. Written only by the engine
 * leader, every write conditional on the leader's lease (a deposed leader's writes fail), so one
 * unit is never assigned twice. Each agent watches only the entries for its own machine.
 */
public interface ScheduleRegistry {

  Optional<Versioned<String>> assignment(String unit);

  /** unit → machine, by unit name. */
  Map<String, String> assignments();

  /** Assigns {@code unit} to {@code machineId} if its entry is still at {@code expectedModRevision} (0: absent). */
  boolean assign(String unit, String machineId, long expectedModRevision);

  /** Removes the assignment if it is still at {@code expectedModRevision}. */
  boolean unassign(String unit, long expectedModRevision);

  /** Records why {@code unit} is not scheduled (shown by the CLI), or clears it with an empty reason. */
  void setUnscheduledReason(String unit, String reason);

  /**
   * Why each unscheduled unit is not scheduled, as last recorded by {@link #setUnscheduledReason}
   * (the API shows it, the engine reads it back after a failover instead of rewriting them all).
   * The default knows none: an implementation that stores reasons must override it.
   */
  default Map<String, String> unscheduledReasons() {
    return Map.of();
  }
}
