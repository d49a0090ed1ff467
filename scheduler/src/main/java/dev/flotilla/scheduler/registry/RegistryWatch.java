package dev.flotilla.scheduler.registry;

import java.util.List;

/**
 * Changes since a revision, polled by the engine's loop (no callbacks into the engine: its loop
 * takes {@code now} and returns its next deadline, threads stay in the outer shell).
 */
public interface RegistryWatch extends AutoCloseable {

  /** Events received so far and not yet taken, oldest first, at most {@code max}. */
  List<RegistryEvent> poll(int max);

  /**
   * Whether the watch fell behind a compaction and events were lost: the engine then does a full
   * pass from a fresh read and opens a new watch from that read's revision.
   */
  boolean isBroken();

  /**
   * Whether events are waiting to be polled. A hint for a loop deciding whether to go on at once
   * (the engine leaves a schedule write in flight only then); false where it is not known.
   */
  default boolean hasEvents() {
    return false;
  }

  /**
   * How many store changes this watch has received so far, including those it passes on as no
   * event (-1: not known). Unchanged between two looks means no write reached the watch between
   * them: a quiet engine's safety pass then needs no store request (see {@code Engine.Config}).
   */
  default long changesSeen() {
    return -1;
  }

  @Override
  void close();
}
