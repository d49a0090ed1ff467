package dev.flotilla.raft.wal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The WAL's directory: lists, creates and deletes segment files, makes those changes durable, and
 * holds a lock file so that two owners (two processes, or two opens in one JVM) never write the
 * same log.
 */
final class WalDirectory implements Closeable {

  static final String LOCK_FILE = "wal.lock";

  private final Path dir;
  private final FileChannel lockChannel;
  private final FileLock lock;

  private WalDirectory(Path dir, FileChannel lockChannel, FileLock lock) {
    this.dir = dir;
    this.lockChannel = lockChannel;
    this.lock = lock;
  }

  static WalDirectory open(Path dir) throws IOException {
    Files.createDirectories(dir);
    FileChannel channel = FileChannel.open(dir.resolve(LOCK_FILE),
        StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    }
    if (lock == null) {
      channel.close();
      throw new IOException("WAL directory " + dir + " is already open (lock " + LOCK_FILE
          + " is held); close the other owner first");
    }
    return new WalDirectory(dir, channel, lock);
  }

  Path path() {
    return dir;
  }

  /** Segments in sequence order; fails on a gap in the sequence, which means a lost segment. */
  List<SegmentFile> segments() throws IOException {
    List<SegmentFile> found = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        String name = file.getFileName().toString();
        if (!name.endsWith(".wal")) {
          continue;
        }
        Optional<SegmentFile> segment = SegmentFile.parse(file);
        if (segment.isEmpty()) {
          throw new WalCorruptionException(file, 0,
              "not a segment name (expected %016x-%016x.wal); move it out of the WAL directory");
        }
        found.add(segment.get());
      }
    }
    found.sort(Comparator.comparingLong(SegmentFile::sequence));
    for (int i = 1; i < found.size(); i++) {
      long expected = found.get(i - 1).sequence() + 1;
      if (found.get(i).sequence() != expected) {
        throw new WalCorruptionException(found.get(i).path(), 0,
            "segment sequence " + expected + " is missing before this segment");
      }
    }
    return found;
  }

  /**
   * Creates a segment file, from the ready spare if there is one (zero-filled) or else empty, and
   * makes its directory entry durable.
   */
  SegmentFile create(long sequence, long firstIndex, SpareSegment spare) throws IOException {
    SegmentFile segment = SegmentFile.in(dir, sequence, firstIndex);
    if (spare == null || !spare.takeAs(segment.path())) {
      Files.createFile(segment.path());
    }
    sync();
    return segment;
  }

  /** Deletes a segment file; the caller syncs the directory after a batch of deletions. */
  void delete(SegmentFile segment) throws IOException {
    Files.delete(segment.path());
  }

  /** fsyncs the directory, so that created and deleted names survive a crash. */
  void sync() throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  @Override
  public void close() throws IOException {
    try {
      lock.release();
    } finally {
      lockChannel.close();
    }
  }
}
