package dev.flotilla.raft.wal;

/**
 * Tuning of a {@link Wal}.
 *
 * @param segmentBytes a segment that has reached this size is closed and a new one started before
 *     the next entry; records are never split, so a segment can exceed it by one batch's tail
 * @param writeBufferBytes initial size of the direct buffer that collects records between syncs;
 *     a sync whose records fit in it costs one write call (it grows for larger records)
 * @param preallocate whether new segments start as zero-filled files of {@code segmentBytes}
 *     written ahead on a thread of their own ({@link SpareSegment}), so that a sync does not have to
 *     persist a new file size; off, every segment grows with its appends
 */
public record WalOptions(long segmentBytes, int writeBufferBytes, boolean preallocate) {

  public static final long DEFAULT_SEGMENT_BYTES = 64L << 20;
  public static final int DEFAULT_WRITE_BUFFER_BYTES = 1 << 20;

  public WalOptions {
    if (segmentBytes < 1) {
      throw new IllegalArgumentException("segmentBytes must be >= 1, got " + segmentBytes);
    }
    if (writeBufferBytes < 64) {
      throw new IllegalArgumentException("writeBufferBytes must be >= 64, got " + writeBufferBytes);
    }
  }

  /** Preallocating, as {@link #defaults()}. */
  public WalOptions(long segmentBytes, int writeBufferBytes) {
    this(segmentBytes, writeBufferBytes, true);
  }

  public static WalOptions defaults() {
    return new WalOptions(DEFAULT_SEGMENT_BYTES, DEFAULT_WRITE_BUFFER_BYTES, true);
  }

  public WalOptions withSegmentBytes(long bytes) {
    return new WalOptions(bytes, writeBufferBytes, preallocate);
  }

  public WalOptions withWriteBufferBytes(int bytes) {
    return new WalOptions(segmentBytes, bytes, preallocate);
  }

  public WalOptions withPreallocate(boolean on) {
    return new WalOptions(segmentBytes, writeBufferBytes, on);
  }
}
