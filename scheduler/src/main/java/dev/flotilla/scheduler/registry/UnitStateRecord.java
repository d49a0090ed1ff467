package dev.flotilla.scheduler.registry;

import dev.flotilla.scheduler.unit.UnitHash;

/** What an agent reports about a unit it runs: systemd's three states and the file hash it loaded. */
public record UnitStateRecord(String unit, String machineId, UnitHash hash, String loadState, String activeState,
    String subState) {}
