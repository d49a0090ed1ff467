package dev.flotilla.raft.wal;

import ch.qos.logback.classic.Logger;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;

/** Entries, file surgery and log capture shared by the WAL tests. */
final class WalFixtures {

  private WalFixtures() {}

  /** An entry whose bytes are derived from index and term, so a mix-up shows in equals. */
  static WalEntry entry(long index, long term, int size) {
    byte[] data = new byte[size];
    for (int i = 0; i < size; i++) {
      data[i] = (byte) (index * 31 + term * 7 + i + 1);
    }
    return new WalEntry(index, term, data);
  }

  static List<WalEntry> entries(long from, long to, long term, int size) {
    return LongStream.rangeClosed(from, to).mapToObj(i -> entry(i, term, size)).collect(Collectors.toList());
  }

  static List<WalEntry> replayAll(Wal wal) throws IOException {
    return replayFrom(wal, 0);
  }

  static List<WalEntry> replayFrom(Wal wal, long from) throws IOException {
    List<WalEntry> out = new ArrayList<>();
    wal.replay(from, out::add);
    return out;
  }

  /**
   * Writes entries 1..{@code n} (term 1, 120 bytes) into a new WAL in {@code dir}, eight per sync
   * with a hard state each time: the log the crash tests damage.
   */
  static void writeLog(Path dir, WalOptions options, long n) throws IOException {
    try (Wal wal = Wal.open(dir, options)) {
      for (long i = 1; i <= n; i += 8) {
        wal.append(entries(i, i + 7, 1, 120));
        wal.saveHardState(new HardState(1, 1, i));
        wal.sync();
      }
    }
  }

  static List<Path> segmentFiles(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.toString().endsWith(".wal")).sorted().collect(Collectors.toList());
    }
  }

  static Path lastSegment(Path dir) throws IOException {
    List<Path> files = segmentFiles(dir);
    return files.get(files.size() - 1);
  }

  /** Start offsets of the records in a segment, header included. */
  static List<Long> recordOffsets(Path segment) throws IOException {
    List<Long> offsets = new ArrayList<>();
    try (SegmentReader reader = new SegmentReader(segment, 0)) {
      while (reader.next() instanceof SegmentReader.Ok ok) {
        offsets.add(ok.offset());
      }
    }
    return offsets;
  }

  static void truncate(Path file, long size) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.truncate(size);
    }
  }

  static void appendBytes(Path file, byte[] bytes) throws IOException {
    Files.write(file, bytes, StandardOpenOption.APPEND);
  }

  static void xorByte(Path file, long offset, int mask) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer one = ByteBuffer.allocate(1);
      channel.read(one, offset);
      one.put(0, (byte) (one.get(0) ^ mask));
      one.rewind();
      channel.write(one, offset);
    }
  }

  /** Copies the WAL's segment files (not its lock) into an empty directory. */
  static void copySegments(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    for (Path file : segmentFiles(from)) {
      Files.copy(file, to.resolve(file.getFileName()));
    }
  }
}
