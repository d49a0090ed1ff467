package dev.flotilla.raft.core;

/** A log index was asked for that lies behind the latest snapshot, so its entry is gone. */
public final class LogCompactedException extends RuntimeException {

  public LogCompactedException(long index, long snapshotIndex) {
    super("log index " + index + " is compacted: the log starts after snapshot index " + snapshotIndex);
  }
}
