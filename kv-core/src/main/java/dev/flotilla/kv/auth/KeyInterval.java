package dev.flotilla.kv.auth;

import com.google.protobuf.ByteString;

/**
 * A half-open key interval [begin, end) as etcd's permission checks see one: an empty range end
 * is the single key (the interval [key, key+"\0")), a range end of "\0" is every key from
 * {@code key} on ({@code end == null}: no upper bound).
 */
record KeyInterval(ByteString begin, ByteString end) {
  private static final ByteString ZERO = ByteString.copyFrom(new byte[] {0});

  static KeyInterval of(ByteString key, ByteString rangeEnd) {
    if (rangeEnd.isEmpty()) {
      return new KeyInterval(key, key.concat(ZERO));
    }
    if (rangeEnd.equals(ZERO)) {
      return new KeyInterval(key, null);
    }
    return new KeyInterval(key, rangeEnd);
  }

  /** No key lies in it (an end at or before the begin). */
  boolean isEmpty() {
    return end != null && compare(begin, end) >= 0;
  }

  static int compare(ByteString a, ByteString b) {
    return ByteString.unsignedLexicographicalComparator().compare(a, b);
  }

  /** {@code a} and {@code b} as upper bounds: null is above every key. */
  static int compareEnds(ByteString a, ByteString b) {
    if (a == null) {
      return b == null ? 0 : 1;
    }
    return b == null ? -1 : compare(a, b);
  }
}
