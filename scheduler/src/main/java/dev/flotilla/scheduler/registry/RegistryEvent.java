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

  record AssignmentChanged(String unit, long revision) implements RegistryEvent {}
}
