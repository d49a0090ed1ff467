package dev.flotilla.kv.client;

import com.google.protobuf.ByteString;
import java.util.Objects;

/**
 * etcd's (key, range_end): one key when {@code end} is empty, else every key in
 * {@code [key, end)}; an {@code end} of a single zero byte means every key from {@code key} on.
 */
public record KeyRange(ByteString key, ByteString end) {
  private static final ByteString ZERO = ByteString.copyFrom(new byte[] {0});

  public KeyRange {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(end, "end");
    if (key.isEmpty()) {
      throw new IllegalArgumentException("a key range needs a key; use KeyRange.prefix(\"\") for every key");
    }
  }

  public static KeyRange key(ByteString key) {
    return new KeyRange(key, ByteString.EMPTY);
  }

  public static KeyRange key(String key) {
    return key(ByteString.copyFromUtf8(key));
  }

  /** Every key starting with {@code prefix} (every key at all for an empty prefix), as etcd's WithPrefix. */
  public static KeyRange prefix(ByteString prefix) {
    if (prefix.isEmpty()) {
      return new KeyRange(ZERO, ZERO);
    }
    byte[] end = prefix.toByteArray();
    for (int i = end.length - 1; i >= 0; i--) {
      if (end[i] != (byte) 0xff) {
        end[i]++;
        return new KeyRange(prefix, ByteString.copyFrom(end, 0, i + 1));
      }
    }
    return new KeyRange(prefix, ZERO); // all 0xff: every key from the prefix on
  }

  public static KeyRange prefix(String prefix) {
    return prefix(ByteString.copyFromUtf8(prefix));
  }

  public boolean isSingleKey() {
    return end.isEmpty();
  }

  public boolean contains(ByteString k) {
    var order = ByteString.unsignedLexicographicalComparator();
    if (end.isEmpty()) {
      return k.equals(key);
    }
    return order.compare(k, key) >= 0 && (end.equals(ZERO) || order.compare(k, end) < 0);
  }

  @Override
  public String toString() {
    return end.isEmpty() ? key.toStringUtf8() : "[" + key.toStringUtf8() + ", " + end.toStringUtf8() + ")";
  }
}
