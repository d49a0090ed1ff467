package dev.flotilla.scheduler.registry;

import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitName;

/** A submitted unit (fleet's {@code job.Unit}): its name, its file, and what the user wants of it. */
public record UnitRecord(UnitName name, UnitFile file, DesiredState desiredState) {}
