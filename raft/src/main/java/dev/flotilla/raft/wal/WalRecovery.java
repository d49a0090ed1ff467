package dev.flotilla.raft.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds a WAL's state by scanning every segment at open.
 *
 * <p>Only the last segment can end in a torn write: a segment is fsynced before the next one is
 * created. A bad record there is the unfinished tail of the final write, and is cut off with one
 * WARN line, when nothing valid follows it:
 * <ul>
 *   <li>its frame header is cut short by end of file, or
 *   <li>its body runs past end of file, or its length or checksum is wrong, and no checksum-valid
 *       record starts anywhere after its frame header, and only zeros (or nothing) lie past the end
 *       its length claims. A crash after the file grew but before all its blocks were written reads
 *       back as zeros; the record scan keeps a damaged length field in the middle of the file from
 *       passing for a short tail and silently taking the valid records behind it.
 * </ul>
 * Zeros from a record boundary to the end of the last segment are where a preallocated segment
 * ({@link SpareSegment}) was not written yet: the log ends there and nothing is cut. A bad record
 * in the last segment with a zero-filled hole in it (its frame header, or a whole sector) is the
 * final write torn by a power loss with its blocks persisted out of order: cut there too, with
 * whatever follows it.
 * Every other bad record, and every bad record in an earlier segment, fails the open with
 * {@link WalCorruptionException}: skipping it could lose acknowledged entries or a vote.
 */
final class WalRecovery {

  private static final Logger LOG = LoggerFactory.getLogger(WalRecovery.class);
  /** The smallest unit a disk writes whole. */
  private static final int SECTOR_BYTES = 512;

  /** State of the log after the scan; {@code lastSegmentSize} is where appends continue. */
  record Recovered(List<SegmentFile> segments, LogLayout layout, HardState hardState,
      SnapshotMarker snapshot, long lastSegmentSize) {}

  private final WalDirectory dir;
  private final LogLayout layout = new LogLayout();
  private HardState hardState = HardState.EMPTY;
  private SnapshotMarker snapshot;

  private WalRecovery(WalDirectory dir) {
    this.dir = dir;
  }

  static Recovered recover(WalDirectory dir) throws IOException {
    return new WalRecovery(dir).run();
  }

  private Recovered run() throws IOException {
    List<SegmentFile> segments = new ArrayList<>(dir.segments());
    long lastEnd = 0;
    long previousEnd = 0;
    for (int i = 0; i < segments.size(); i++) {
      previousEnd = lastEnd;
      lastEnd = scan(segments.get(i), i == segments.size() - 1);
    }
    if (!segments.isEmpty() && lastEnd == 0) {
      // The crash came between creating the last segment and writing its header: it holds nothing.
      SegmentFile empty = segments.remove(segments.size() - 1);
      LOG.warn("WAL {}: segment holds no complete header (crash while it was being created); deleting it",
          empty.path());
      dir.delete(empty);
      dir.sync();
      lastEnd = previousEnd;
    }
    return new Recovered(segments, layout, hardState, snapshot, lastEnd);
  }

  /** Applies one segment's records; returns the offset where its valid records end. */
  private long scan(SegmentFile segment, boolean last) throws IOException {
    try (SegmentReader reader = new SegmentReader(segment.path(), 0)) {
      boolean first = true;
      while (true) {
        SegmentReader.Result result = reader.next();
        if (result instanceof SegmentReader.End end) {
          if (first && !last) {
            throw new WalCorruptionException(segment.path(), 0, "segment is empty, it has no header record");
          }
          return end.offset();
        }
        if (result instanceof SegmentReader.Bad bad) {
          if (last && bad.problem() == SegmentReader.Problem.BAD_LENGTH
              && isZero(segment.path(), bad.offset(), reader.size())) {
            // Preallocated zeros the log has not reached yet: the end of the log, nothing torn.
            return bad.offset();
          }
          if (last && isTornTail(segment.path(), reader.size(), bad)) {
            truncate(segment.path(), reader.size(), bad.offset(), bad.detail());
            return bad.offset();
          }
          if (last && hasHole(segment.path(), reader.size(), bad)) {
            truncate(segment.path(), reader.size(), bad.offset(), bad.detail() + ", with a zero-filled hole in it"
                + " (blocks of the unfinished write reached the disk out of order), so nothing after it was synced");
            return bad.offset();
          }
          throw new WalCorruptionException(segment.path(), bad.offset(), explain(bad, last));
        }
        SegmentReader.Ok ok = (SegmentReader.Ok) result;
        if (first) {
          checkHeader(segment, ok);
          first = false;
        } else {
          apply(segment, ok);
        }
      }
    }
  }

  private static void checkHeader(SegmentFile segment, SegmentReader.Ok ok) throws WalCorruptionException {
    if (!(ok.record() instanceof SegmentHeader header)) {
      throw new WalCorruptionException(segment.path(), ok.offset(),
          "first record is " + ok.record().getClass().getSimpleName() + ", not a segment header");
    }
    if (header.magic() != SegmentHeader.MAGIC) {
      throw new WalCorruptionException(segment.path(), ok.offset(),
          String.format("segment header magic is %08x, expected %08x", header.magic(), SegmentHeader.MAGIC));
    }
    if (header.version() != SegmentHeader.VERSION) {
      throw new WalCorruptionException(segment.path(), ok.offset(),
          "segment format version " + header.version() + " is not supported (this build reads "
              + SegmentHeader.VERSION + ")");
    }
    if (header.sequence() != segment.sequence()) {
      throw new WalCorruptionException(segment.path(), ok.offset(),
          "segment header says sequence " + header.sequence() + " but the file name says "
              + segment.sequence() + " (renamed or copied file?)");
    }
  }

  private void apply(SegmentFile segment, SegmentReader.Ok ok) throws WalCorruptionException {
    WalRecord record = ok.record();
    if (record instanceof WalEntry entry) {
      String problem = layout.admissionProblem(entry.index(), snapshot);
      if (problem != null) {
        throw new WalCorruptionException(segment.path(), ok.offset(), problem);
      }
      layout.add(segment.sequence(), ok.offset(), entry.index());
    } else if (record instanceof HardState state) {
      hardState = state;
    } else if (record instanceof SnapshotMarker marker) {
      snapshot = marker;
      if (marker.replacesLog()) {
        layout.clear();
      }
    } else {
      throw new WalCorruptionException(segment.path(), ok.offset(), "segment header in the middle of a segment");
    }
  }

  private static String explain(SegmentReader.Bad bad, boolean last) {
    if (!last) {
      return bad.detail() + "; the segment is not the last one, so this is not a torn final write";
    }
    if (bad.problem() == SegmentReader.Problem.BAD_PAYLOAD) {
      return bad.detail() + "; its checksum matches, so it was written this way";
    }
    return bad.detail() + "; data follows it, so this is not a torn final write";
  }

  private static boolean isTornTail(Path file, long size, SegmentReader.Bad bad) throws IOException {
    long afterHeader = bad.offset() + RecordCodec.FRAME_HEADER_BYTES;
    return switch (bad.problem()) {
      case TRUNCATED_HEADER -> true;
      case TRUNCATED_BODY -> !containsRecord(file, afterHeader, size);
      case BAD_LENGTH -> isZero(file, afterHeader, size);
      case BAD_CRC -> isZero(file, bad.end(), size) && !containsRecord(file, afterHeader, bad.end());
      case BAD_PAYLOAD -> false;
    };
  }

  /**
   * Whether a bad record carries the mark of an unfinished write whose blocks reached the disk out of
   * order (a power loss during the last sync; likely in a preallocated segment, where later blocks
   * can land while an earlier one still holds its zeros): its frame header is all zeros, or a whole
   * 512-byte sector that starts inside the bytes it claims is. The log never writes a zero header
   * nor leaves an unwritten sector among its records, and a sync covers everything written before
   * it, so nothing at or after such a hole was synced; cutting the log there loses nothing
   * acknowledged (etcd's WAL decoder treats a zero-filled sector inside a record the same way).
   * Only a disk that zeroed sectors of synced data would be misread.
   */
  private static boolean hasHole(Path file, long size, SegmentReader.Bad bad) throws IOException {
    if (bad.problem() == SegmentReader.Problem.BAD_PAYLOAD) {
      return false; // its checksum matches: written whole
    }
    long at = bad.offset();
    if (isZero(file, at, Math.min(size, at + RecordCodec.FRAME_HEADER_BYTES))) {
      return true;
    }
    // A sector that starts inside the record; it may reach past the record's end (a record is often
    // smaller than a sector, and a lost block takes the records after it along).
    long end = Math.min(bad.end() < 0 ? at : bad.end(), size);
    for (long sector = (at + SECTOR_BYTES - 1) / SECTOR_BYTES * SECTOR_BYTES; sector < end; sector += SECTOR_BYTES) {
      if (sector + SECTOR_BYTES <= size && isZero(file, sector, sector + SECTOR_BYTES)) {
        return true;
      }
    }
    return false;
  }

  /** Cuts {@code file} (of {@code size} bytes) at the torn write at {@code offset}, saying why in one WARN line. */
  private static void truncate(Path file, long size, long offset, String why) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.truncate(offset);
      channel.force(true);
    }
    LOG.warn("WAL {}: torn write at offset {} ({}); dropped {} bytes, truncated the file to {} bytes",
        file, offset, why, size - offset, offset);
  }

  /** Whether bytes {@code [from, to)} are all zero (true when the range is empty). */
  private static boolean isZero(Path file, long from, long to) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(64 << 10);
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long at = from;
      while (at < to) {
        buffer.clear().limit((int) Math.min(buffer.capacity(), to - at));
        int read = channel.read(buffer, at);
        if (read < 0) {
          return true;
        }
        for (int i = 0; i < read; i++) {
          if (buffer.get(i) != 0) {
            return false;
          }
        }
        at += read;
      }
    }
    return true;
  }

  /**
   * Whether a checksum-valid record lies wholly within {@code [from, to)}, starting at any byte.
   * Only called on the bytes one bad record claims, so the range is at most one record long.
   */
  private static boolean containsRecord(Path file, long from, long to) throws IOException {
    if (to - from < RecordCodec.FRAME_HEADER_BYTES + 1) {
      return false;
    }
    ByteBuffer bytes = ByteBuffer.allocate((int) (to - from));
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      while (bytes.hasRemaining() && channel.read(bytes, from + bytes.position()) >= 0) {
        // keep reading until the range is in memory
      }
    }
    byte[] array = bytes.array();
    CRC32C crc = new CRC32C();
    int n = bytes.position();
    for (int p = 0; p + RecordCodec.FRAME_HEADER_BYTES < n; p++) {
      long length = Integer.toUnsignedLong(bytes.getInt(p));
      int payloadAt = p + RecordCodec.FRAME_HEADER_BYTES;
      if (length < 1 || payloadAt + length > n || !RecordCodec.plausibleType(array[payloadAt])) {
        continue;
      }
      crc.reset();
      crc.update(array, payloadAt, (int) length);
      if ((int) crc.getValue() == bytes.getInt(p + 4)) {
        return true;
      }
    }
    return false;
  }
}
