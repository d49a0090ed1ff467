package dev.flotilla.scheduler.registry;

import java.util.Objects;

/**
 * One write of a batch ({@link ScheduleRegistry#write}): {@code unit} → {@code machine} (null:
 * unassigned), made only if the unit's entry is still at {@code expectedModRevision} (0: absent).
 *
 * <p>What the writer knows lets a store write the batch without reading first: {@code from} is the
 * machine the entry names at {@code expectedModRevision} (null when absent), and
 * {@code desired} the unit's desired state with the mod revision of the unit document it was read
 * from (null when unknown: the registry reads it). A write whose knowledge is stale fails, as a
 * single {@code assign} would.
 */
public record ScheduleWrite(String unit, String machine, long expectedModRevision, String from,
    Versioned<DesiredState> desired) {

  public ScheduleWrite {
    Objects.requireNonNull(unit, "unit");
  }

  /** The outcome of one write: {@code revision} is the store revision it was made at (0: not known). */
  public record Outcome(String unit, boolean done, long revision) {}
}
