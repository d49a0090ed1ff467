package dev.flotilla.scheduler.registry;

/**
 * A change the engine reacts to, from a watch on the registry's keys (the reconciler is driven by
 * these, with a periodic full pass as a safety net). Carries names, and for units the record as
 * of the event when the registry has it at hand (the store's watch does): the engine reads
 * anything else it needs, in bulk, so a burst of changes to one unit costs at most one read.
 */
public sealed interface RegistryEvent {

  /** The watch's store revision when the event happened. */
  long revision();

  /** {@code value}: the unit as written at {@code revision}, or null (the engine then reads it). */
  record UnitChanged(String unit, long revision, Versioned<UnitRecord> value) implements RegistryEvent {
    public UnitChanged(String unit, long revision) {
      this(unit, revision, null);
    }
  }

  record UnitRemoved(String unit, long revision) implements RegistryEvent {}

  record MachineChanged(String machineId, long revision) implements RegistryEvent {}

  /** The machine's presence lease expired or it left. */
  record MachineGone(String machineId, long revision) implements RegistryEvent {}

  /**
   * A schedule (or globals) entry changed. {@code carried}: the watch brought the entry's value, then
   * {@code desired} is its desired state as of {@code revision}, null when the entry was removed (an
   * agent applies it to what it read before, the usual list and watch, with no read per event); not
   * carried ({@code desired} null): read the entries to know.
   */
  record AssignmentChanged(String unit, long revision, boolean carried, DesiredState desired)
      implements RegistryEvent {
    public AssignmentChanged(String unit, long revision) {
      this(unit, revision, false, null);
    }
  }
}
