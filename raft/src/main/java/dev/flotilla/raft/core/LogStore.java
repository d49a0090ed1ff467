package dev.flotilla.raft.core;

import java.util.List;

/**
 * The durable side of a member's log: what has been persisted (entries, hard state, the latest
 * snapshot). The core reads it; the application writes it with the contents of each
 * {@link Ready} and then calls {@link #sync()} before sending that Ready's messages.
 *
 * <p>Indexes: the log holds entries {@code firstIndex()..lastIndex()}; {@code firstIndex() - 1}
 * is the latest snapshot's index, whose term {@link #term} still answers. An empty log has
 * {@code lastIndex() == firstIndex() - 1}.
 *
 * <p>Implementations: {@link MemLogStore} (tests, simulation; its contents stand for "what reached
 * the disk") and {@code dev.flotilla.raft.storage.WalLogStore}, which keeps a {@code MemLogStore}
 * as its read cache and writes through {@link dev.flotilla.raft.wal.Wal} (entries, hard state,
 * snapshot markers; one fsync per {@link #sync()}) and a checksummed snapshot store, and replays
 * them at open. Its javadoc states the caller's side of the group-commit contract.
 */
public interface LogStore {

  /** The persisted hard state; {@link HardState#EMPTY} for a new member. */
  HardState hardState();

  /** The latest snapshot; {@link Snapshot#EMPTY} (index 0) when there is none. */
  Snapshot snapshot();

  long firstIndex();

  long lastIndex();

  /**
   * The term of the entry at {@code index}, for {@code firstIndex()-1 <= index <= lastIndex()}.
   *
   * @throws LogCompactedException below that range
   * @throws IllegalArgumentException above it
   */
  long term(long index);

  /**
   * Entries {@code [lo, hi)}, stopping once their {@link Entry#sizeBytes()} pass {@code maxBytes}
   * but always at least one.
   *
   * @throws LogCompactedException when {@code lo < firstIndex()}
   */
  List<Entry> entries(long lo, long hi, long maxBytes);

  /** Appends entries, replacing the stored suffix from the first one's index on. */
  void append(List<Entry> entries);

  void setHardState(HardState state);

  /** Replaces the whole log with a snapshot received from the leader. */
  void applySnapshot(Snapshot snapshot);

  /**
   * Records a snapshot the application took at {@code index} (at or below the applied index). The
   * log is left alone: call {@link #compact} when the entries behind it may go (keeping some lets a
   * slightly lagging follower catch up from the log instead of a whole snapshot).
   */
  void createSnapshot(long index, ConfState confState, byte[] data);

  /** Drops the entries up to and including {@code index}, which the latest snapshot must cover. */
  void compact(long index);

  /** Makes everything written so far durable. */
  default void sync() {}
}
