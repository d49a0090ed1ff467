package dev.flotilla.scheduler.registry;

/**
 * A change the engine reacts to, from a watch on the registry's keys (the reconciler is driven by
 * these, with a periodic full pass as a safety net). Carries names only: the engine reads what it
 * needs, so a burst of changes to one unit costs one read.
 */
public sealed interface RegistryEvent {

  /** The watch's store revision when the event happened. */
  long revision();

  record UnitChanged(String unit, long revision) implements RegistryEvent {}

  record UnitRemoved(String unit, long revision) implements RegistryEvent {}

  record MachineChanged(String machineId, long revision) implements RegistryEvent {}

  /** The machine's presence lease expired or it left. */
  record MachineGone(String machineId, long revision) implements RegistryEvent {}

  record AssignmentChanged(String unit, long revision) implements RegistryEvent {}
}
