package dev.flotilla.raft.wal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One zero-filled, synced file kept ready in the WAL directory, so that the next segment starts with
 * every block already written. An fdatasync after writing into such a file persists only the data:
 * no new size, no block allocation, so no journal commit. Measured on this project's machines
 * (ext4 on a virtual disk, 4-8 KiB writes): ~160-260 µs and ~65 µs of CPU per write + fdatasync,
 * against ~300-520 µs and ~140-180 µs of CPU when each write extends the file (bench/RESULTS.md,
 * sixteenth session). etcd preallocates its segments too, with fallocate (a "file pipeline").
 *
 * <p>The spare is written on a thread of its own, so the loop that writes the log never waits for
 * a segment's worth of zeros; it is asked for only once the active segment is half full (or holds
 * {@link Wal#EARLY_ROTATION_BYTES}, for one that grows with its appends), so a log that stays small
 * (most tests, idle members) never writes one. When the next segment is due and
 * no spare is ready, the WAL creates an empty file as before. A spare of at most
 * {@link #INLINE_BYTES} is written at once on the caller's thread (about a millisecond), which also
 * makes small-segment logs, as tests use, lay out their files the same way every run. Not
 * thread-safe apart from the preparation itself: the WAL's owner thread calls every method.
 */
final class SpareSegment implements Closeable {

  private static final Logger LOG = LoggerFactory.getLogger(SpareSegment.class);
  /** A finished spare: complete and synced. Neither name ends in ".wal", so recovery never reads them. */
  static final String READY_NAME = "spare.wal-tmp";
  /** A spare being written; it becomes {@link #READY_NAME} only when complete and synced. */
  static final String PARTIAL_NAME = "spare.wal-partial";
  private static final int ZERO_CHUNK_BYTES = 1 << 20;
  /**
   * Zeros are made durable this many bytes at a time, so that the disk gets them as a run of small
   * flushes between the log's own syncs rather than as one burst of a whole segment, which held
   * those syncs back by up to ~100 ms in a first try.
   */
  private static final long SYNC_EVERY_BYTES = 2 << 20;
  /**
   * Zeros are written at most this fast, so that they take the disk from the log's own syncs for
   * a few seconds in small doses rather than in a burst (a 64 MiB segment: ~2 s; asked for when the
   * active one is half full, ~6 s before it is needed at 15,000 v2 PUTs/s). Unpaced, the PUT
   * benchmark's slowest requests doubled (bench/RESULTS.md, sixteenth session).
   */
  private static final long BYTES_PER_SECOND = 32L << 20;
  static final long INLINE_BYTES = 1 << 20;

  private final Path dir;
  private final long bytes;
  private final ExecutorService writer;
  private CompletableFuture<Path> pending;

  /** Removes spares a previous run left behind (a partial one cannot be trusted, and both are cheap to redo). */
  SpareSegment(Path dir, long bytes) throws IOException {
    this.dir = dir;
    this.bytes = bytes;
    Files.deleteIfExists(dir.resolve(PARTIAL_NAME));
    Files.deleteIfExists(dir.resolve(READY_NAME));
    this.writer = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "wal-spare-" + dir.getFileName());
      t.setDaemon(true);
      return t;
    });
  }

  /** Starts writing a spare unless one is ready or under way. */
  void request() {
    if (pending != null) {
      return;
    }
    CompletableFuture<Path> spare = new CompletableFuture<>();
    Runnable task = () -> {
      try {
        spare.complete(write());
      } catch (IOException | RuntimeException e) {
        spare.completeExceptionally(e);
      }
    };
    pending = spare;
    if (bytes > INLINE_BYTES) {
      writer.execute(task);
    } else {
      task.run();
    }
  }

  /** Whether a spare is written and synced, ready to be taken. */
  boolean ready() {
    return pending != null && pending.isDone() && !pending.isCompletedExceptionally();
  }

  /**
   * Renames the ready spare to {@code target} and returns true; false when none is ready (not
   * requested, still being written, or its writing failed, which is logged once and forgotten).
   * The caller syncs the directory.
   */
  boolean takeAs(Path target) throws IOException {
    if (pending == null || !pending.isDone()) {
      return false;
    }
    CompletableFuture<Path> done = pending;
    pending = null;
    Path spare;
    try {
      spare = done.get();
    } catch (ExecutionException e) {
      LOG.warn("WAL {}: could not prepare a zero-filled spare segment ({}); the next segment starts empty",
          dir, e.getCause().toString());
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
    Files.move(spare, target, StandardCopyOption.ATOMIC_MOVE);
    return true;
  }

  /** Waits for a requested spare to be ready (tests make the choice between the two paths certain). */
  void awaitReady() throws IOException {
    if (pending == null) {
      return;
    }
    try {
      pending.get();
    } catch (ExecutionException e) {
      throw new IOException("preparing the spare segment failed", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for the spare segment", e);
    }
  }

  private Path write() throws IOException {
    Path partial = dir.resolve(PARTIAL_NAME);
    ByteBuffer zeros = ByteBuffer.allocateDirect((int) Math.min(ZERO_CHUNK_BYTES, bytes));
    try {
      writeZeros(partial, zeros);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(partial); // a full disk should not stay fuller by a half-written spare
      throw e;
    }
    return Files.move(partial, dir.resolve(READY_NAME), StandardCopyOption.ATOMIC_MOVE);
  }

  private void writeZeros(Path partial, ByteBuffer zeros) throws IOException {
    try (FileChannel channel = FileChannel.open(partial, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      long at = 0;
      long synced = 0;
      long start = System.nanoTime();
      while (at < bytes) {
        if (at > 0) {
          pace(start, at);
        }
        zeros.clear().limit((int) Math.min(zeros.capacity(), bytes - at));
        while (zeros.hasRemaining()) {
          at += channel.write(zeros, at);
        }
        if (at - synced >= SYNC_EVERY_BYTES) {
          channel.force(false);
          synced = at;
        }
      }
      channel.force(true);
    }
  }

  /** Waits until writing {@code written} bytes since {@code start} keeps to {@link #BYTES_PER_SECOND}. */
  private static void pace(long start, long written) throws IOException {
    long due = start + written * 1_000_000_000L / BYTES_PER_SECOND;
    long wait = due - System.nanoTime();
    if (wait > 0) {
      try {
        TimeUnit.NANOSECONDS.sleep(wait);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("stopped while writing the spare segment");
      }
    }
  }

  /** Stops the writing thread (interrupting a spare under way); files are left for the next open to delete. */
  @Override
  public void close() throws IOException {
    writer.shutdownNow();
    try {
      if (!writer.awaitTermination(10, TimeUnit.SECONDS)) {
        throw new IOException("WAL " + dir + ": the spare segment writer did not stop within 10 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
