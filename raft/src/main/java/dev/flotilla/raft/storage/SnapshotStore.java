package dev.flotilla.raft.storage;

import dev.flotilla.raft.core.ConfState;
import dev.flotilla.raft.core.Snapshot;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Snapshot files in one directory, named {@code %016x-%016x.snap} (term, index; etcd's naming), one
 * per snapshot:
 *
 * <pre>
 *   [4] magic "FLSN"  [4] format version  [8] payload length  [4] CRC32C of the payload
 *   payload: [8] index [8] term [4] n voters [8]*n [4] m learners [8]*m, then the data bytes
 * </pre>
 *
 * A file is written under a {@code .tmp} name, fsynced, renamed into place and the directory
 * fsynced, so a crash leaves either the whole file or none (a leftover {@code .tmp} is deleted at
 * open). Loading checks length, checksum and that the header agrees with the name; a file that
 * fails is reported (one WARN line naming it and what is wrong) and renamed to {@code .broken},
 * and the next older one is tried.
 *
 * <p>Not thread-safe; {@link WalLogStore} owns it.
 */
public final class SnapshotStore {

  private static final Logger LOG = LoggerFactory.getLogger(SnapshotStore.class);
  private static final Pattern NAME = Pattern.compile("([0-9a-f]{16})-([0-9a-f]{16})\\.snap");
  private static final int MAGIC = 0x464c534e; // "FLSN"
  private static final int VERSION = 1;
  private static final int HEADER_BYTES = 4 + 4 + 8 + 4;

  /** A snapshot file: its name says term and index. */
  public record SnapshotFile(long term, long index, Path path) {}

  private final Path dir;

  private SnapshotStore(Path dir) {
    this.dir = dir;
  }

  /** Opens (creating it if needed) the directory and deletes files a crash left half-written. */
  public static SnapshotStore open(Path dir) throws IOException {
    Files.createDirectories(dir);
    boolean removed = false;
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        if (file.getFileName().toString().endsWith(".snap.tmp")) {
          LOG.info("snapshot store {}: deleting {}, left half-written by a crash", dir, file.getFileName());
          Files.delete(file);
          removed = true;
        }
      }
    }
    if (removed) {
      syncDirectory(dir);
    }
    return new SnapshotStore(dir);
  }

  public Path directory() {
    return dir;
  }

  /** The snapshot files present (valid or not; {@code .broken} ones excluded), newest first. */
  public List<SnapshotFile> list() throws IOException {
    List<SnapshotFile> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        Matcher m = NAME.matcher(file.getFileName().toString());
        if (m.matches()) {
          out.add(new SnapshotFile(Long.parseUnsignedLong(m.group(1), 16), Long.parseUnsignedLong(m.group(2), 16), file));
        }
      }
    }
    out.sort(Comparator.comparingLong(SnapshotFile::index).thenComparingLong(SnapshotFile::term).reversed());
    return out;
  }

  /** Writes {@code snapshot} durably (temp file, fsync, rename, directory fsync); returns its path. */
  public Path save(Snapshot snapshot) throws IOException {
    if (snapshot.isEmpty()) {
      throw new IllegalArgumentException("cannot save the empty snapshot (index 0)");
    }
    Path target = dir.resolve(String.format("%016x-%016x.snap", snapshot.term(), snapshot.index()));
    Path tmp = dir.resolve(target.getFileName() + ".tmp");
    ByteBuffer meta = encodeMetadata(snapshot);
    CRC32C crc = new CRC32C();
    crc.update(meta.duplicate());
    crc.update(snapshot.data());
    long payloadBytes = meta.remaining() + (long) snapshot.data().length;
    ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES)
        .putInt(MAGIC).putInt(VERSION).putLong(payloadBytes).putInt((int) crc.getValue()).flip();
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE)) {
      ByteBuffer[] parts = {header, meta, ByteBuffer.wrap(snapshot.data())};
      long total = HEADER_BYTES + payloadBytes;
      long written = 0;
      while (written < total) {
        written += ch.write(parts);
      }
      ch.force(true);
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    syncDirectory(dir);
    return target;
  }

  /**
   * The newest snapshot at or below {@code maxIndex} whose file reads back intact. Files that do not
   * are reported and renamed {@code .broken}; the search continues with older ones.
   */
  public Optional<Snapshot> loadNewest(long maxIndex) throws IOException {
    for (SnapshotFile file : list()) {
      if (file.index() > maxIndex) {
        continue;
      }
      try {
        return Optional.of(read(file));
      } catch (CorruptSnapshotException e) {
        Path broken = file.path().resolveSibling(file.path().getFileName() + ".broken");
        LOG.warn("snapshot store {}: {} is corrupt ({}); renamed it to {} and trying an older snapshot",
            dir, file.path().getFileName(), e.getMessage(), broken.getFileName());
        Files.move(file.path(), broken, StandardCopyOption.REPLACE_EXISTING);
        syncDirectory(dir);
      }
    }
    return Optional.empty();
  }

  /** Deletes snapshot files above {@code index} (written, but a crash kept them from taking effect). */
  public void deleteAbove(long index) throws IOException {
    boolean removed = false;
    for (SnapshotFile file : list()) {
      if (file.index() > index) {
        LOG.info("snapshot store {}: deleting {}, newer than the WAL's snapshot marker {} (never took effect)",
            dir, file.path().getFileName(), index);
        Files.delete(file.path());
        removed = true;
      }
    }
    if (removed) {
      syncDirectory(dir);
    }
  }

  /** Keeps the {@code retain} newest snapshot files and deletes the rest. */
  public void prune(int retain) throws IOException {
    List<SnapshotFile> files = list();
    boolean removed = false;
    for (int i = retain; i < files.size(); i++) {
      Files.deleteIfExists(files.get(i).path());
      removed = true;
    }
    if (removed) {
      syncDirectory(dir);
    }
  }

  /** Reads and verifies one file. */
  public Snapshot read(SnapshotFile file) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file.path());
    } catch (NoSuchFileException e) {
      throw new CorruptSnapshotException("file vanished");
    }
    if (bytes.length < HEADER_BYTES) {
      throw new CorruptSnapshotException("file is " + bytes.length + " bytes, shorter than the " + HEADER_BYTES
          + "-byte header");
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    int magic = buf.getInt();
    int version = buf.getInt();
    long payloadBytes = buf.getLong();
    int crc = buf.getInt();
    if (magic != MAGIC) {
      throw new CorruptSnapshotException(String.format("magic is %08x, expected %08x", magic, MAGIC));
    }
    if (version != VERSION) {
      throw new CorruptSnapshotException("format version " + version + " is not supported (this build reads "
          + VERSION + ")");
    }
    if (payloadBytes != bytes.length - HEADER_BYTES) {
      throw new CorruptSnapshotException("header says " + payloadBytes + " payload bytes, the file holds "
          + (bytes.length - HEADER_BYTES));
    }
    CRC32C actual = new CRC32C();
    actual.update(bytes, HEADER_BYTES, bytes.length - HEADER_BYTES);
    if ((int) actual.getValue() != crc) {
      throw new CorruptSnapshotException(String.format("CRC32C of the payload is %08x, the header says %08x",
          (int) actual.getValue(), crc));
    }
    Snapshot snapshot;
    try {
      snapshot = decode(buf);
    } catch (RuntimeException e) {
      throw new CorruptSnapshotException("payload does not decode: " + e.getMessage());
    }
    if (snapshot.index() != file.index() || snapshot.term() != file.term()) {
      throw new CorruptSnapshotException("holds snapshot " + snapshot.index() + "/" + snapshot.term()
          + " but its name says " + file.index() + "/" + file.term());
    }
    return snapshot;
  }

  private static ByteBuffer encodeMetadata(Snapshot s) {
    ConfState conf = s.confState();
    ByteBuffer buf = ByteBuffer.allocate(8 + 8 + 4 + 8 * conf.voters().size() + 4 + 8 * conf.learners().size());
    buf.putLong(s.index()).putLong(s.term());
    buf.putInt(conf.voters().size());
    conf.voters().forEach(buf::putLong);
    buf.putInt(conf.learners().size());
    conf.learners().forEach(buf::putLong);
    return buf.flip();
  }

  private static Snapshot decode(ByteBuffer buf) {
    long index = buf.getLong();
    long term = buf.getLong();
    TreeSet<Long> voters = readIds(buf);
    TreeSet<Long> learners = readIds(buf);
    byte[] data = new byte[buf.remaining()];
    buf.get(data);
    return new Snapshot(index, term, new ConfState(voters, learners), data);
  }

  private static TreeSet<Long> readIds(ByteBuffer buf) {
    int n = buf.getInt();
    if (n < 0 || n > buf.remaining() / 8) {
      throw new IllegalArgumentException("member count " + n + " does not fit the payload");
    }
    TreeSet<Long> ids = new TreeSet<>();
    for (int i = 0; i < n; i++) {
      ids.add(buf.getLong());
    }
    return ids;
  }

  static void syncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  /** A snapshot file that does not read back as written. */
  public static final class CorruptSnapshotException extends IOException {
    CorruptSnapshotException(String message) {
      super(message);
    }
  }
}
