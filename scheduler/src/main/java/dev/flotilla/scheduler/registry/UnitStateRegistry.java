package dev.flotilla.scheduler.registry;

import java.util.List;

/** Unit states reported by agents, each under its agent's lease. */
public interface UnitStateRegistry {

  /** All reported states, by unit then machine. */
  List<UnitStateRecord> states();

  void report(UnitStateRecord state);

  void clear(String unit, String machineId);
}
