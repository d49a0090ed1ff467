package dev.flotilla.kv.mvcc;

import java.util.Arrays;

/**
 * A store key as a hash-map key, its hash computed once: the apply thread's maps of records by key
 * ({@link WriteTxn}'s keys seen, the {@link KvCache}) hash each key when a group sees it and again
 * when the group commits into the cache. As a {@code ByteBuffer} (hashed byte by byte through
 * {@code get(i)}, every time) that was a tenth of a 160,000-key DeleteRange's apply with 256-byte
 * keys. The bytes are never changed once wrapped.
 */
final class StoreKey {
  private final byte[] bytes;
  private final int hash;

  private StoreKey(byte[] bytes) {
    this.bytes = bytes;
    this.hash = Arrays.hashCode(bytes);
  }

  /** Wraps {@code bytes}, which nobody may change afterwards. */
  static StoreKey of(byte[] bytes) {
    return new StoreKey(bytes);
  }

  /** The key itself: not to be changed. */
  byte[] bytes() {
    return bytes;
  }

  int length() {
    return bytes.length;
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public boolean equals(Object o) {
    return o == this || (o instanceof StoreKey k && k.hash == hash && Arrays.equals(k.bytes, bytes));
  }

  @Override
  public String toString() {
    return Arrays.toString(bytes);
  }
}
