package dev.flotilla.raft.node;

import dev.flotilla.raft.core.Entry;
import dev.flotilla.raft.core.Snapshot;

/**
 * The application a {@link RaftNode} replicates. All calls come from the node's loop thread, one at
 * a time, in log order (but for the supplier {@link #snapshotLater} returns); none may block for
 * long (the loop stops meanwhile).
 */
public interface StateMachine {

  /**
   * Applies one committed entry: every entry, in index order, including the empty entries new
   * leaders commit and {@link Entry.Type#CONF_CHANGE} entries (whose membership effect the node
   * has already taken care of in Raft; the application may update its own view, e.g. peer addresses).
   */
  void apply(Entry entry);

  /**
   * Applies consecutive committed entries in one go (an application that writes to disk can make
   * one write of them). By default, one {@link #apply} each.
   */
  default void applyAll(java.util.List<Entry> entries) {
    entries.forEach(this::apply);
  }

  /**
   * For an application that keeps its state durably on its own (a database with its applied index
   * in it): the index it has applied, which may be ahead of the latest snapshot after a restart;
   * the node then neither restores the snapshot nor re-applies entries up to it. 0 for an
   * application that lives in memory and is rebuilt from snapshot and log.
   */
  default long appliedIndex() {
    return 0;
  }

  /** The application's state after the last applied entry, for a snapshot at that index. */
  byte[] snapshot();

  /**
   * As {@link #snapshot}, in two steps, for an application whose state takes long to encode (a
   * database): capture the state after the last applied entry now, quickly (a point-in-time view),
   * and return what encodes that capture. The node calls the supplier once, on another thread, while
   * its loop goes on applying later entries. By default, {@link #snapshot} now.
   */
  default java.util.function.Supplier<byte[]> snapshotLater() {
    byte[] data = snapshot();
    return () -> data;
  }

  /**
   * True for an application whose own durable store is its snapshot (see {@link #appliedIndex}),
   * as etcd's bbolt file is etcd's: the node's periodic snapshots then hold no data, only the
   * index the store has made durable ({@link #persistLater}), and a follower that needs a snapshot
   * gets the store as of the leader's latest applied entry, encoded then ({@link #snapshotLater}).
   * Encoding the whole store at every periodic snapshot on every member cost more CPU per write
   * the longer the history grew. False by default.
   */
  default boolean keepsOwnState() {
    return false;
  }

  /**
   * For {@link #keepsOwnState}: makes the state after the last applied entry durable, in two steps
   * as {@link #snapshotLater}: what must happen now happens here, the returned task (run once, on
   * another thread, while the loop goes on applying) does the slow part (a flush). The log behind
   * that entry may go once the task has run.
   */
  default Runnable persistLater() {
    throw new UnsupportedOperationException("persistLater is for an application that keeps its own state");
  }

  /**
   * Replaces the application's state with a snapshot's: at start (the snapshot the store recovered)
   * and when a leader sends one. Entries after {@code snapshot.index()} follow through {@link #apply}.
   */
  void restore(Snapshot snapshot);
}
