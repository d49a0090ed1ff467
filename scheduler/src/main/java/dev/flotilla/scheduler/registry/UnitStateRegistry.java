package dev.flotilla.scheduler.registry;

import java.util.List;

/** Unit states reported by agents, each under its agent's lease. */
public interface UnitStateRegistry {

  /** All reported states, by unit then machine. */
  List<UnitStateRecord> states();

  /**
   * The first {@code limit} states of {@link #states()}, in its order: a page of a listing reads
   * (and decodes) no state after it.
   */
  default List<UnitStateRecord> states(int limit) {
    List<UnitStateRecord> all = states();
    return all.size() <= limit ? all : List.copyOf(all.subList(0, limit));
  }

  /** The states reported for {@code unit}, by machine (none for a name no unit can have). */
  default List<UnitStateRecord> statesOf(String unit) {
    return states().stream().filter(s -> s.unit().equals(unit)).toList();
  }

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
