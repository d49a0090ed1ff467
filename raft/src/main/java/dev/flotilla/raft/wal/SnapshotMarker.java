package dev.flotilla.raft.wal;

/**
 * Says that a snapshot covering the log up to {@code index} (whose entry had {@code term}) is
 * durable elsewhere. The snapshot itself is not in the WAL.
 */
public record SnapshotMarker(long index, long term) implements WalRecord {

  public SnapshotMarker {
    if (index < 0 || term < 0) {
      throw new IllegalArgumentException("snapshot index and term must be >= 0, got " + index + "/" + term);
    }
  }
}
