package dev.flotilla.raft.wal;

import java.util.Arrays;
import java.util.Objects;

/**
 * One log entry as the WAL stores it. {@code data} is opaque to the WAL.
 *
 * <p>The array is not copied: {@link Wal#append} encodes it at once, so a caller may reuse it after
 * the call; entries handed out by {@link Wal#replay} own fresh arrays. equals/hashCode compare the
 * bytes, so entries read back compare equal to the ones written.
 */
public record WalEntry(long index, long term, byte[] data) implements WalRecord {

  public WalEntry {
    Objects.requireNonNull(data, "data");
    if (index < 1) {
      throw new IllegalArgumentException("entry index must be >= 1, got " + index);
    }
    if (term < 0) {
      throw new IllegalArgumentException("entry term must be >= 0, got " + term);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof WalEntry e && e.index == index && e.term == term && Arrays.equals(e.data, data);
  }

  @Override
  public int hashCode() {
    return Objects.hash(index, term, Arrays.hashCode(data));
  }

  @Override
  public String toString() {
    return "WalEntry[index=" + index + ", term=" + term + ", data=" + data.length + " bytes]";
  }
}
