package dev.flotilla.kv.mvcc;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.rocksdb.RocksIterator;

/** Reads the lease → key attachment index of the {@code leases} column family. */
final class LeaseIndex {
  private LeaseIndex() {}

  /** Closes {@code it}. */
  static List<byte[]> keys(RocksIterator it, long id) {
    List<byte[]> out = new ArrayList<>();
    byte[] prefix = ByteBuffer.allocate(8).putLong(id).array();
    try (it) {
      for (it.seek(prefix); it.isValid(); it.next()) {
        byte[] k = it.key();
        if (k.length < 8 || !Arrays.equals(k, 0, 8, prefix, 0, 8)) {
          break;
        }
        if (k.length > 8) {
          out.add(Arrays.copyOfRange(k, 8, k.length));
        }
      }
    }
    return out;
  }
}
