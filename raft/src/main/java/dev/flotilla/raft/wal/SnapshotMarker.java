package dev.flotilla.raft.wal;

/**
 * Says that a snapshot covering the log up to {@code index} (whose entry had {@code term}) is
 * durable elsewhere. The snapshot itself is not in the WAL.
 *
 * @param replacesLog the snapshot replaces the whole log (a follower installing its leader's
 *     snapshot, {@link Wal#resetToSnapshot}): every entry written before this marker is dead, even
 *     those past {@code index}, which belonged to a history the snapshot contradicts
 */
public record SnapshotMarker(long index, long term, boolean replacesLog) implements WalRecord {

  public SnapshotMarker {
    if (index < 0 || term < 0) {
      throw new IllegalArgumentException("snapshot index and term must be >= 0, got " + index + "/" + term);
    }
  }

  /** A marker for a snapshot taken of this log (entries after it stay). */
  public SnapshotMarker(long index, long term) {
    this(index, term, false);
  }
}
