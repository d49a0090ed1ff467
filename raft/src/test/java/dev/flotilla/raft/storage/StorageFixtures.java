package dev.flotilla.raft.storage;

import ch.qos.logback.classic.Logger;
import dev.flotilla.raft.core.ConfChange;
import dev.flotilla.raft.core.Entry;
import dev.flotilla.raft.core.LogStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Entries, crash copies and log capture for the storage tests. */
final class StorageFixtures {

  private StorageFixtures() {}

  /** An entry whose bytes derive from index and term; every 7th is a conf change. */
  static Entry entry(long index, long term, int size) {
    if (index % 7 == 0) {
      return new Entry(index, term, Entry.Type.CONF_CHANGE, ConfChange.addLearner(100 + index).encode());
    }
    byte[] data = new byte[size];
    for (int i = 0; i < size; i++) {
      data[i] = (byte) (index * 31 + term * 7 + i + 1);
    }
    return Entry.normal(index, term, data);
  }

  static List<Entry> entries(long from, long to, long term, int size) {
    List<Entry> out = new ArrayList<>();
    for (long i = from; i <= to; i++) {
      out.add(entry(i, term, size));
    }
    return out;
  }

  /** Every entry the store holds, firstIndex..lastIndex. */
  static List<Entry> all(LogStore store) {
    if (store.lastIndex() < store.firstIndex()) {
      return List.of();
    }
    return store.entries(store.firstIndex(), store.lastIndex() + 1, Long.MAX_VALUE);
  }

  /**
   * What a power cut leaves: a copy of the files as they are now. The WAL buffers records in memory
   * until sync, so the copy holds exactly what was synced (and, at most, a written but unsynced
   * tail, which the page cache would also keep). Lock files are not copied.
   */
  static Path crashCopy(Path dir, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Path target = to.resolve(dir.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else if (!p.getFileName().toString().equals("wal.lock")) {
          Files.copy(p, target);
        }
      }
    }
    return to;
  }

  static List<Path> files(Path dir, String suffix) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.toString().endsWith(suffix)).sorted().collect(Collectors.toList());
    }
  }

  static void truncate(Path file, long size) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.truncate(size);
    }
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
}
