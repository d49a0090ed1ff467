package dev.flotilla.kv.client;

import com.google.protobuf.ByteString;

/** An operation inside a {@link Txn}. */
public sealed interface Op {

  /** Reads a range at the txn's revision. */
  record Get(KeyRange range) implements Op {}

  /** Writes a key, attached to {@code lease} (0: no lease). */
  record Put(ByteString key, ByteString value, long lease) implements Op {}

  record Delete(KeyRange range) implements Op {}

  static Op get(KeyRange range) {
    return new Get(range);
  }

  static Op put(ByteString key, ByteString value) {
    return new Put(key, value, 0);
  }

  static Op put(ByteString key, ByteString value, long lease) {
    return new Put(key, value, lease);
  }

  static Op delete(KeyRange range) {
    return new Delete(range);
  }
}
