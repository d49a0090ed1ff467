package dev.flotilla.raft.wal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * A write-ahead log of Raft entries, hard state and snapshot markers, kept in a directory of
 * segment files (see {@link RecordCodec} for the record format, {@link WalRecovery} for what happens
 * at open, {@link LogLayout} for how suffix overwrites are resolved).
 *
 * <p>Writes are buffered in memory and become durable together at the next {@link #sync()}: append
 * a batch, save the hard state, then sync once (group commit). After a crash, recovery keeps
 * everything synced and possibly some of what followed it, never a record after a lost one.
 *
 * <p>Not thread-safe: one owner thread calls every method. After a write fails with an
 * {@link IOException} the WAL refuses further writes; close it and open it again to recover from
 * what reached the disk.
 */
public final class Wal implements Closeable {

  private final WalDirectory dir;
  private final WalOptions options;
  private final LogLayout layout;
  /** Writes the next segment's zeros ahead; null when {@link WalOptions#preallocate()} is off. */
  private final SpareSegment spare;
  /**
   * A segment that grows with its appends (a new log's first, one started when no spare was
   * ready, one resumed as such) is left for a preallocated one once it holds this much and a spare
   * is ready, rather than when full: a fresh member's first 64 MiB would otherwise all be written
   * the slow way.
   */
  static final long EARLY_ROTATION_BYTES = 4 << 20;
  /** The active segment extends its file with each write: it was not preallocated. */
  private boolean growing;
  /** Every segment on disk, oldest first; the last one is the one {@link #writer} appends to. */
  private final List<SegmentFile> segments;
  private SegmentWriter writer;
  private HardState hardState;
  private SnapshotMarker snapshot;
  private IOException failure;
  private boolean closed;

  private Wal(WalDirectory dir, WalOptions options, WalRecovery.Recovered state, SegmentWriter writer,
      boolean growing, SpareSegment spare) {
    this.dir = dir;
    this.spare = spare;
    this.options = options;
    this.layout = state.layout();
    this.segments = new ArrayList<>(state.segments());
    this.hardState = state.hardState();
    this.snapshot = state.snapshot();
    this.writer = writer;
    this.growing = growing;
  }

  /**
   * Opens the WAL in {@code dir}, creating the directory if needed, and recovers its state by
   * scanning every segment. A torn final write is cut off with a WARN log line; any other damage
   * throws {@link WalCorruptionException}.
   */
  public static Wal open(Path dir, WalOptions options) throws IOException {
    Objects.requireNonNull(options, "options");
    WalDirectory directory = WalDirectory.open(dir);
    SpareSegment spare = null;
    try {
      WalRecovery.Recovered state = WalRecovery.recover(directory);
      SegmentWriter writer = null;
      if (!state.segments().isEmpty()) {
        SegmentFile last = state.segments().get(state.segments().size() - 1);
        writer = SegmentWriter.resume(last, state.lastSegmentSize(), options.writeBufferBytes());
      }
      if (options.preallocate()) {
        spare = new SpareSegment(directory.path(), options.segmentBytes());
      }
      return new Wal(directory, options, state, writer, writer != null && !writer.preallocated(), spare);
    } catch (IOException | RuntimeException e) {
      try {
        if (spare != null) {
          spare.close();
        }
      } finally {
        directory.close();
      }
      throw e;
    }
  }

  /**
   * Buffers entries for the next {@link #sync()}. The batch must be consecutive; its first index
   * must be the next one, one already in the log (everything from there on is replaced, as Raft
   * does with a conflicting suffix), or right after a newer snapshot marker. On an empty log any
   * index after the snapshot marker is accepted, so a log may start past 1.
   *
   * @throws IllegalArgumentException when the batch breaks those rules; nothing is written then
   */
  public void append(List<WalEntry> entries) throws IOException {
    checkWritable();
    if (entries.isEmpty()) {
      return;
    }
    validate(entries);
    try {
      for (WalEntry entry : entries) {
        if (writer == null || writer.size() >= options.segmentBytes() || leaveGrowingSegment()) {
          startSegment(entry.index());
        }
        long offset = writer.append(entry);
        layout.add(writer.segment().sequence(), offset, entry.index());
      }
      long half = options.segmentBytes() / 2;
      if (spare != null && writer.size() >= (growing ? Math.min(half, EARLY_ROTATION_BYTES) : half)) {
        spare.request();
      }
    } catch (IOException e) {
      throw fail(e);
    }
  }

  private void validate(List<WalEntry> entries) {
    WalEntry first = Objects.requireNonNull(entries.get(0), "entry");
    String problem = layout.admissionProblem(first.index(), snapshot);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
    long expected = first.index();
    for (WalEntry entry : entries) {
      Objects.requireNonNull(entry, "entry");
      if (entry.index() != expected) {
        throw new IllegalArgumentException("entries must be consecutive: expected index " + expected
            + ", got " + entry.index());
      }
      if (entry.data().length > RecordCodec.MAX_PAYLOAD_BYTES - RecordCodec.ENTRY_OVERHEAD_BYTES) {
        throw new IllegalArgumentException("entry " + entry.index() + " holds " + entry.data().length
            + " bytes, more than the WAL's record limit of " + RecordCodec.MAX_PAYLOAD_BYTES);
      }
      expected++;
    }
  }

  /** Buffers the hard state for the next {@link #sync()}; saving the current value again is a no-op. */
  public void saveHardState(HardState state) throws IOException {
    checkWritable();
    Objects.requireNonNull(state, "state");
    if (state.equals(hardState)) {
      return;
    }
    appendRecord(state);
    hardState = state;
  }

  /**
   * Buffers a marker saying a snapshot up to {@code index} is durable elsewhere. Entries stay in the
   * log until {@link #releaseBefore} drops their segments; once a marker is saved, new entries must
   * come after its index.
   *
   * @throws IllegalArgumentException if {@code index} is below the last marker's
   */
  public void saveSnapshotMarker(long index, long term) throws IOException {
    checkWritable();
    SnapshotMarker marker = new SnapshotMarker(index, term);
    if (snapshot != null && index < snapshot.index()) {
      throw new IllegalArgumentException("snapshot index " + index + " is below the last snapshot marker's "
          + snapshot.index());
    }
    appendRecord(marker);
    snapshot = marker;
  }

  /**
   * Buffers a marker for a snapshot that replaces the whole log: a follower installing its
   * leader's snapshot. Every entry in the log dies with it, including any past {@code index} (they
   * belong to a history the snapshot contradicts; keeping them until the next append overwrote them
   * would let a crash in between resurrect them). New entries start at {@code index + 1}; segments
   * left with no live entries go at the next {@link #releaseBefore}.
   *
   * @throws IllegalArgumentException if {@code index} is below the last marker's
   */
  public void resetToSnapshot(long index, long term) throws IOException {
    checkWritable();
    if (snapshot != null && index < snapshot.index()) {
      throw new IllegalArgumentException("snapshot index " + index + " is below the last snapshot marker's "
          + snapshot.index());
    }
    SnapshotMarker marker = new SnapshotMarker(index, term, true);
    appendRecord(marker);
    snapshot = marker;
    layout.clear();
  }

  private void appendRecord(WalRecord record) throws IOException {
    try {
      if (writer == null) {
        startSegment(Math.max(layout.lastIndex(), snapshot == null ? 0 : snapshot.index()) + 1);
      }
      writer.append(record);
    } catch (IOException e) {
      throw fail(e);
    }
  }

  /** Writes everything buffered (one write call when it fits the buffer) and fdatasyncs it. */
  public void sync() throws IOException {
    checkWritable();
    if (writer == null) {
      return;
    }
    try {
      writer.sync();
    } catch (IOException e) {
      throw fail(e);
    }
  }

  /** First live entry index, 0 when the log holds no entries. */
  public long firstIndex() {
    return layout.firstIndex();
  }

  /** Last entry index, buffered entries included; 0 when the log holds no entries. */
  public long lastIndex() {
    return layout.lastIndex();
  }

  /** The last hard state saved (buffered or synced), {@link HardState#EMPTY} if none ever was. */
  public HardState hardState() {
    return hardState;
  }

  /** The last snapshot marker saved, or null if none ever was. */
  public SnapshotMarker lastSnapshot() {
    return snapshot;
  }

  /**
   * Streams the live entries with index {@code >= fromIndex} in index order, reading them from disk
   * (buffered entries are written out first, not synced). Entries cut by a later overwrite are not
   * delivered. The consumer must not call back into this WAL.
   */
  public void replay(long fromIndex, Consumer<WalEntry> consumer) throws IOException {
    checkOpen();
    Objects.requireNonNull(consumer, "consumer");
    if (writer != null) {
      try {
        writer.flush();
      } catch (IOException e) {
        throw fail(e);
      }
    }
    for (LogLayout.Run run : layout.runsFrom(fromIndex)) {
      replayRun(run, fromIndex, consumer);
    }
  }

  private void replayRun(LogLayout.Run run, long fromIndex, Consumer<WalEntry> consumer) throws IOException {
    Path path = segmentPath(run.sequence());
    try (SegmentReader reader = new SegmentReader(path, run.offset())) {
      long expected = run.firstIndex();
      while (expected <= run.lastIndex()) {
        SegmentReader.Result result = reader.next();
        if (!(result instanceof SegmentReader.Ok ok)) {
          long at = result instanceof SegmentReader.Bad bad ? bad.offset() : ((SegmentReader.End) result).offset();
          String what = result instanceof SegmentReader.Bad bad ? bad.detail() : "end of file";
          throw new WalCorruptionException(path, at, "expected entry " + expected + ", found " + what
              + " (the file changed after it was opened)");
        }
        if (!(ok.record() instanceof WalEntry entry)) {
          continue;
        }
        if (entry.index() != expected) {
          throw new WalCorruptionException(path, ok.offset(), "expected entry " + expected + ", found entry "
              + entry.index() + " (the file changed after it was opened)");
        }
        if (entry.index() >= fromIndex) {
          consumer.accept(entry);
        }
        expected++;
      }
    }
  }

  private Path segmentPath(long sequence) {
    for (SegmentFile segment : segments) {
      if (segment.sequence() == sequence) {
        return segment.path();
      }
    }
    throw new IllegalStateException("no segment with sequence " + sequence);
  }

  /**
   * Deletes the oldest segment files whose live entries all lie below {@code index}, never the
   * segment being written. Compaction goes by whole segments, so {@link #firstIndex()} may stay below
   * {@code index}. The current hard state and snapshot marker are written and synced into the
   * current segment first, so deleting the files that held them cannot lose them.
   */
  public void releaseBefore(long index) throws IOException {
    checkWritable();
    List<SegmentFile> doomed = new ArrayList<>();
    for (int i = 0; i < segments.size() - 1; i++) {
      SegmentFile segment = segments.get(i);
      if (layout.lastIndexIn(segment.sequence()) >= index) {
        break;
      }
      doomed.add(segment);
    }
    if (doomed.isEmpty()) {
      return;
    }
    try {
      if (!hardState.equals(HardState.EMPTY)) {
        writer.append(hardState);
      }
      if (snapshot != null) {
        // Rewritten as a plain marker: a reset here would kill the entries written since the original.
        writer.append(new SnapshotMarker(snapshot.index(), snapshot.term()));
      }
      writer.sync();
      // Oldest first: a crash part-way leaves a shorter prefix missing, which recovery accepts.
      for (SegmentFile segment : doomed) {
        dir.delete(segment);
        layout.dropSegment(segment.sequence());
        segments.remove(segment);
      }
      dir.sync();
    } catch (IOException e) {
      throw fail(e);
    }
  }

  private void startSegment(long firstIndex) throws IOException {
    long sequence = 0;
    if (writer != null) {
      // The old segment must be complete on disk before a newer one exists: recovery only
      // forgives a torn write in the last segment.
      writer.seal();
      writer.close();
      sequence = writer.segment().sequence() + 1;
    } else if (!segments.isEmpty()) {
      sequence = segments.get(segments.size() - 1).sequence() + 1;
    }
    SegmentFile segment = dir.create(sequence, firstIndex, spare);
    segments.add(segment);
    writer = SegmentWriter.start(segment, options.writeBufferBytes());
    growing = !writer.preallocated();
  }

  private boolean leaveGrowingSegment() {
    return growing && spare != null && writer.size() >= EARLY_ROTATION_BYTES && spare.ready();
  }

  /** Syncs what is buffered, then releases the files and the directory lock. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (writer != null && failure == null) {
        writer.sync();
      }
    } finally {
      try {
        if (writer != null) {
          writer.close();
        }
      } finally {
        try {
          if (spare != null) {
            spare.close();
          }
        } finally {
          dir.close();
        }
      }
    }
  }

  /** Waits until a spare segment requested so far is ready (tests use it to make the next segment's start certain). */
  void awaitSpare() throws IOException {
    if (spare != null) {
      spare.awaitReady();
    }
  }

  private IOException fail(IOException e) {
    failure = e;
    return e;
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("WAL " + dir.path() + " is closed");
    }
  }

  private void checkWritable() {
    checkOpen();
    if (failure != null) {
      throw new IllegalStateException("WAL " + dir.path() + " failed earlier (" + failure.getMessage()
          + "); close and reopen it to recover", failure);
    }
  }
}
