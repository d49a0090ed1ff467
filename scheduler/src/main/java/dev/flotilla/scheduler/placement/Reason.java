package dev.flotilla.scheduler.placement;

/**
 * Why a unit cannot be placed, in the order placement checks: the stage where the last eligible
 * machines dropped out.
 */
public enum Reason {
  /** There are no machines at all. */
  NO_MACHINES,
  /** {@code MachineID=} names no present machine. */
  MACHINE_ID,
  /** A {@code MachineOf=} unit is not scheduled, or they are not all on one machine. */
  MACHINE_OF,
  /** No machine left has the {@code MachineMetadata=} asked for. */
  METADATA,
  /** Every machine left runs a conflicting unit, or a unit that replaces this one. */
  CONFLICTS,
  /** No machine left has the reserved CPU or memory free. */
  RESOURCES
}
