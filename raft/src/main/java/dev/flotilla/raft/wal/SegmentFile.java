package dev.flotilla.raft.wal;

import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A segment's identity, as spelled by its file name {@code %016x-%016x.wal}: sequence number, then
 * the index the log expected next when the segment was created (the index of the first entry in it,
 * unless the segment was started by a hard state or a suffix overwrite; recovery trusts the records,
 * not this hint).
 */
record SegmentFile(long sequence, long firstIndex, Path path) {

  private static final Pattern NAME = Pattern.compile("([0-9a-f]{16})-([0-9a-f]{16})\\.wal");

  static String name(long sequence, long firstIndex) {
    return String.format("%016x-%016x.wal", sequence, firstIndex);
  }

  static SegmentFile in(Path dir, long sequence, long firstIndex) {
    return new SegmentFile(sequence, firstIndex, dir.resolve(name(sequence, firstIndex)));
  }

  /** Empty when the file is not named like a segment. */
  static Optional<SegmentFile> parse(Path path) {
    var m = NAME.matcher(path.getFileName().toString());
    if (!m.matches()) {
      return Optional.empty();
    }
    return Optional.of(new SegmentFile(
        Long.parseUnsignedLong(m.group(1), 16), Long.parseUnsignedLong(m.group(2), 16), path));
  }
}
