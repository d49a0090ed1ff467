package dev.flotilla.raft.wal;

/**
 * First record of every segment. It repeats the file name's sequence so that a renamed or copied
 * segment is caught, and carries a format version for future readers.
 */
record SegmentHeader(int magic, int version, long sequence, long firstIndex) implements WalRecord {

  /** "FLWL". */
  static final int MAGIC = 0x464c574c;
  static final int VERSION = 1;

  static SegmentHeader of(SegmentFile file) {
    return new SegmentHeader(MAGIC, VERSION, file.sequence(), file.firstIndex());
  }
}
