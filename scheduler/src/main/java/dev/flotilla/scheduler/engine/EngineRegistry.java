package dev.flotilla.scheduler.engine;

import dev.flotilla.scheduler.registry.MachineRegistry;
import dev.flotilla.scheduler.registry.RegistryWatch;
import dev.flotilla.scheduler.registry.ScheduleRegistry;
import dev.flotilla.scheduler.registry.UnitRegistry;
import java.util.Objects;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * What the engine reads and writes. {@code watches} opens a watch of every registry change from
 * the moment it is called: the engine opens one, then reads everything, so nothing that happens
 * between the two is missed (it may be seen twice, which is harmless).
 *
 * <p>{@code fenced} gives, for a term's lease epoch, the schedule the engine writes through
 * during that term: each write conditional on the lease still being at that epoch (in the store:
 * the leader key's create revision), so a deposed leader's late writes fail instead of undoing
 * its successor's. Without fencing it returns {@code schedule} itself.
 *
 * <p>{@code revision} is the store's revision now (0: it cannot say): a periodic safety pass finds
 * it where it was when the last full read began, and then skips the read (nothing was written
 * since, so the read would bring exactly what the engine holds).
 */
public record EngineRegistry(UnitRegistry units, ScheduleRegistry schedule, MachineRegistry machines,
    Supplier<RegistryWatch> watches, LongFunction<ScheduleRegistry> fenced, LongSupplier revision) {

  public EngineRegistry {
    Objects.requireNonNull(units, "units");
    Objects.requireNonNull(schedule, "schedule");
    Objects.requireNonNull(machines, "machines");
    Objects.requireNonNull(watches, "watches");
    Objects.requireNonNull(fenced, "fenced");
    Objects.requireNonNull(revision, "revision");
  }

  /** Without a revision to compare: every safety pass reads everything. */
  public EngineRegistry(UnitRegistry units, ScheduleRegistry schedule, MachineRegistry machines,
      Supplier<RegistryWatch> watches, LongFunction<ScheduleRegistry> fenced) {
    this(units, schedule, machines, watches, fenced, () -> 0);
  }

  /** Unfenced: every term writes through {@code schedule}. */
  public EngineRegistry(UnitRegistry units, ScheduleRegistry schedule, MachineRegistry machines,
      Supplier<RegistryWatch> watches) {
    this(units, schedule, machines, watches, epoch -> schedule);
  }
}
