package dev.flotilla.kv.client;

import com.google.protobuf.ByteString;

/** A key as the store holds it: its value and its MVCC history (etcd's mvccpb.KeyValue). */
public record KeyValue(ByteString key, ByteString value, long createRevision, long modRevision, long version,
    long lease) {

  public String keyUtf8() {
    return key.toStringUtf8();
  }

  public String valueUtf8() {
    return value.toStringUtf8();
  }
}
