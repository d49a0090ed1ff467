package dev.flotilla.kv.v2;

import com.google.protobuf.ByteString;
import dev.flotilla.proto.store.KeyRecord;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/** Walking the v2 tree stored as one MVCC key per node; shared by reads and apply. */
final class V2Tree {
  /** The root directory: not stored, always there, read-only. */
  static final KeyRecord ROOT = KeyRecord.newBuilder()
      .setKey(ByteString.copyFrom(V2Path.key("/"))).setDir(true).build();

  private V2Tree() {}

  /**
   * The node at {@code clean}, or etcd's error: 104 naming the first file met on the way down,
   * or 100 naming the first missing element. {@code currIndex} goes into the error.
   */
  static KeyRecord lookup(Function<byte[], KeyRecord> source, String clean, long currIndex)
      throws V2Error {
    if (clean.equals("/")) {
      return ROOT;
    }
    KeyRecord found = source.apply(V2Path.key(clean));
    if (found != null) {
      return found;
    }
    KeyRecord parent = ROOT;
    String parentPath = "";
    for (String component : clean.substring(1).split("/")) {
      if (!parent.getDir()) {
        throw new V2Error(V2ErrorCode.NOT_DIR, parentPath, currIndex);
      }
      String childPath = parentPath + "/" + component;
      KeyRecord child = source.apply(V2Path.key(childPath));
      if (child == null) {
        throw new V2Error(V2ErrorCode.KEY_NOT_FOUND, childPath, currIndex);
      }
      parent = child;
      parentPath = childPath;
    }
    // unreachable while the tree is consistent: the full path was missing above
    throw new V2Error(V2ErrorCode.KEY_NOT_FOUND, clean, currIndex);
  }

  static String path(KeyRecord r) {
    return V2Path.fromKey(r.getKey().toByteArray());
  }

  static String value(KeyRecord r) {
    return r.getValue().toString(StandardCharsets.ISO_8859_1);
  }

  static ByteString valueBytes(String byteString) {
    return ByteString.copyFrom(byteString, StandardCharsets.ISO_8859_1);
  }

  /** etcd's node.Repr without children: what prevNode and non-recursive listings show. */
  static V2Node repr(KeyRecord r, long nowNanos) {
    long exp = r.getExpireAtUnixNanos();
    return new V2Node(path(r), r.getDir() ? null : value(r), r.getDir(), exp,
        V2Node.ttlAt(exp, nowNanos), r.getModRevision(), r.getCreateRevision(), null);
  }
}
