package dev.flotilla.kv.mvcc;

import dev.flotilla.proto.store.KeyRecord;
import java.util.function.Predicate;

/** Reads of the MVCC store, the same for a reader's snapshot and for a command being applied. */
public interface KvView {
  /** The store's revision as this view sees it. */
  long revision();

  KeyRecord get(byte[] key);

  /** Live keys in [from, to) in key order ({@code to} null: no upper bound) until visitor says stop. */
  void range(byte[] from, byte[] to, Predicate<KeyRecord> visitor);

  /**
   * Keys in [from, to) as they were at revision {@code rev}, in key order: for each key its
   * newest version at or below {@code rev}, unless that version is a deletion.
   */
  void rangeAt(byte[] from, byte[] to, long rev, Predicate<KeyRecord> visitor);

  /** Shared walk over the revs column family for {@link #rangeAt}. */
  static void walkRevs(org.rocksdb.RocksIterator it, byte[] from, byte[] to, long rev,
      Predicate<KeyRecord> visitor) {
    byte[] currentKey = null;
    dev.flotilla.proto.store.ChangeRecord best = null;
    for (it.seek(RevKey.seekTo(from)); it.isValid(); it.next()) {
      byte[] k = it.key();
      byte[] user = RevKey.userKey(k);
      if (to != null && java.util.Arrays.compareUnsigned(user, to) >= 0) {
        break;
      }
      if (currentKey == null || !java.util.Arrays.equals(currentKey, user)) {
        if (best != null && best.getType() == dev.flotilla.proto.store.ChangeRecord.Type.PUT
            && !visitor.test(best.getKv())) {
          return;
        }
        currentKey = user;
        best = null;
      }
      if (RevKey.revision(k) <= rev) {
        best = MvccStore.parseChange(it.value());
      }
    }
    if (best != null && best.getType() == dev.flotilla.proto.store.ChangeRecord.Type.PUT) {
      visitor.test(best.getKv());
    }
  }

  static boolean below(byte[] key, byte[] to) {
    return to == null || java.util.Arrays.compareUnsigned(key, to) < 0;
  }
}
