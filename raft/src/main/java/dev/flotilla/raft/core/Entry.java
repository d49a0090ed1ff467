package dev.flotilla.raft.core;

import java.util.Arrays;
import java.util.Objects;

/**
 * One Raft log entry. {@code data} is opaque application bytes for {@link Type#NORMAL} entries and
 * an encoded {@link ConfChange} for {@link Type#CONF_CHANGE} ones. An empty NORMAL entry is what a
 * new leader appends to commit its term.
 *
 * <p>The array is not copied; nobody mutates it after the entry is built.
 */
public record Entry(long index, long term, Type type, byte[] data) {

  /** What an entry carries. */
  public enum Type { NORMAL, CONF_CHANGE }

  private static final byte[] EMPTY = new byte[0];

  public Entry {
    Objects.requireNonNull(type, "type");
    data = data == null ? EMPTY : data;
    if (index < 0 || term < 0) {
      throw new IllegalArgumentException("entry index and term must be >= 0, got " + index + "/" + term);
    }
  }

  public static Entry normal(long index, long term, byte[] data) {
    return new Entry(index, term, Type.NORMAL, data);
  }

  /** Bytes this entry counts for in message and in-flight size limits. */
  public long sizeBytes() {
    return data.length + 24L;
  }

  public boolean isConfChange() {
    return type == Type.CONF_CHANGE;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Entry e && e.index == index && e.term == term && e.type == type && Arrays.equals(e.data, data);
  }

  @Override
  public int hashCode() {
    return Objects.hash(index, term, type, Arrays.hashCode(data));
  }

  @Override
  public String toString() {
    return "Entry[" + index + "/" + term + (type == Type.CONF_CHANGE ? " " + ConfChange.decode(data) : " " + data.length + "B") + "]";
  }
}
