package dev.flotilla.scheduler.registry;

import java.util.List;

/** Unit states reported by agents, each under its agent's lease. */
public interface UnitStateRegistry {

  /** All reported states, by unit then machine. */
  List<UnitStateRecord> states();

  void report(UnitStateRecord state);

  /**
   * Reports these states, as {@link #report} does each; an agent that read 300 units' states at
   * once writes them in a few requests rather than 300 (the store's implementation batches them).
   */
  default void reportAll(List<UnitStateRecord> states) {
    states.forEach(this::report);
  }

  void clear(String unit, String machineId);
}
