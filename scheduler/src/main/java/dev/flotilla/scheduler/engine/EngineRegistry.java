package dev.flotilla.scheduler.engine;

import dev.flotilla.scheduler.registry.MachineRegistry;
import dev.flotilla.scheduler.registry.RegistryWatch;
import dev.flotilla.scheduler.registry.ScheduleRegistry;
import dev.flotilla.scheduler.registry.UnitRegistry;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * What the engine reads and writes. {@code watches} opens a watch of every registry change from
 * the moment it is called: the engine opens one, then reads everything, so nothing that happens
 * between the two is missed (it may be seen twice, which is harmless).
 */
public record EngineRegistry(UnitRegistry units, ScheduleRegistry schedule, MachineRegistry machines,
    Supplier<RegistryWatch> watches) {

  public EngineRegistry {
    Objects.requireNonNull(units, "units");
    Objects.requireNonNull(schedule, "schedule");
    Objects.requireNonNull(machines, "machines");
    Objects.requireNonNull(watches, "watches");
  }
}
