package dev.flotilla.kv.mvcc;

import dev.flotilla.proto.store.KeyRecord;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The apply thread's memory of committed {@code kv} records (least recently used first out, at
 * most {@code maxBytes} of keys and records), so that a write to a key the apply thread wrote or
 * read recently needs no store read: a v2 set reads its key and its parent directory, and those
 * two store reads were a quarter of the apply thread's CPU under a PUT load (bench/RESULTS.md).
 * etcd keeps its whole v2 store in memory; this keeps the hot part. It holds only what a
 * committed group left in the store ({@link WriteTxn#commit}), {@link #ABSENT} for a key known
 * missing; a restore empties it. Apply thread only.
 */
final class KvCache {
  /** A key known to have no live record. */
  static final KeyRecord ABSENT = KeyRecord.getDefaultInstance();
  private static final int ENTRY_OVERHEAD = 64;

  private final long maxBytes;
  private long bytes;
  private final LinkedHashMap<StoreKey, KeyRecord> entries = new LinkedHashMap<>(1024, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<StoreKey, KeyRecord> eldest) {
      if (bytes <= maxBytes) {
        return false;
      }
      bytes -= KvCache.size(eldest.getKey(), eldest.getValue());
      return true;
    }
  };

  KvCache(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** The record of {@code key} ({@link #ABSENT}: none), or null when not known. */
  KeyRecord get(StoreKey key) {
    return entries.get(key);
  }

  /**
   * What a committed group left in the store for these keys. A group that alone fills the cache
   * (a DeleteRange of 160,000 keys, with 256-byte keys: 50 MB of tombstones) leaves it empty
   * instead: the cache would end up holding an arbitrary part of the group after evicting the
   * rest and everything before it, one hashing and linking of every key later.
   */
  void putAll(Map<StoreKey, KeyRecord> committed) {
    if ((long) committed.size() * ENTRY_OVERHEAD > maxBytes || size(committed) > maxBytes) {
      clear();
      return;
    }
    for (var e : committed.entrySet()) {
      KeyRecord before = entries.put(e.getKey(), e.getValue());
      if (before != null) {
        bytes -= size(e.getKey(), before);
      }
      bytes += size(e.getKey(), e.getValue());
    }
    if (bytes > maxBytes) { // removeEldestEntry trims one entry per put: finish here
      var it = entries.entrySet().iterator();
      while (bytes > maxBytes && it.hasNext()) {
        var e = it.next();
        bytes -= size(e.getKey(), e.getValue());
        it.remove();
      }
    }
  }

  private static long size(Map<StoreKey, KeyRecord> records) {
    long total = 0;
    for (var e : records.entrySet()) {
      total += size(e.getKey(), e.getValue());
    }
    return total;
  }

  void clear() {
    entries.clear();
    bytes = 0;
  }

  private static long size(StoreKey key, KeyRecord rec) {
    return ENTRY_OVERHEAD + key.length() + (rec == ABSENT ? 0 : rec.getSerializedSize());
  }
}
