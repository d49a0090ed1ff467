package dev.flotilla.raft.core;

/** A read-only view of a member's log (persisted and not yet persisted parts together). */
public interface LogView {

  long firstIndex();

  long lastIndex();

  long committed();

  long applied();

  /** The term at {@code index}, or -1 when it is compacted away or past the end. */
  long term(long index);

  /** The entry at {@code index}, or null when it is compacted away or past the end. */
  Entry entry(long index);
}
