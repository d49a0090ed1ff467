package dev.flotilla.kv.mvcc;

import dev.flotilla.proto.store.ChangeRecord;
import dev.flotilla.proto.store.KeyRecord;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.function.Predicate;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatchWithIndex;

/**
 * The changes of a group of log commands, applied one after the other into one write batch:
 * reads see the earlier writes of the group (a write batch with index over the DB), a failed
 * command is rolled back to its save point, and {@link #commit()} writes everything, the new
 * revision and the last applied index in one atomic batch, so a whole group of commands costs
 * one RocksDB write. Used by the apply thread only.
 */
public final class WriteTxn implements KvView, AutoCloseable {
  private final MvccStore store;
  private long index;
  private long lastIndex;
  private long commandRevision;
  private int commandSub;
  private int commandChanges;
  private final WriteBatchWithIndex batch = new WriteBatchWithIndex(true);
  private final ReadOptions readOptions = new ReadOptions();
  private long revision;
  private int sub;
  private final java.util.List<ChangeRecord> changes = new java.util.ArrayList<>();
  /**
   * Live keys as this group last read or wrote them (null: absent): a txn's compare reads the key
   * its put then reads again (create-if-absent, a write conditional on the mod revision), and each
   * read from the indexed batch over the DB is a JNI call and a memtable search. Only what goes
   * through {@link #get}, {@link #put} and {@link #delete} (the only writes of {@code kv}); dropped
   * when a command is rolled back.
   */
  private final java.util.Map<ByteBuffer, KeyRecord> known = new java.util.HashMap<>();

  /** The changes this command made, in order (each with its revision in its kv). */
  public java.util.List<ChangeRecord> changes() {
    return changes;
  }

  WriteTxn(MvccStore store, long revision) {
    this.store = store;
    this.revision = revision;
  }

  /** Starts the changes of the command at log {@code index}. */
  public void startCommand(long index) {
    batch.setSavePoint();
    this.index = index;
    this.commandRevision = revision;
    this.commandSub = sub;
    this.commandChanges = changes.size();
    this.writeRevisionOpen = false;
  }

  /** Keeps the command's changes. */
  public void endCommand() {
    try {
      batch.popSavePoint();
    } catch (RocksDBException e) {
      throw new StoreException("ending the command at " + index + " failed", e);
    }
    lastIndex = index;
  }

  /** Drops the command's changes: it failed, but it still takes its place in the log. */
  public void abortCommand() {
    try {
      batch.rollbackToSavePoint();
    } catch (RocksDBException e) {
      throw new StoreException("rolling back the command at " + index + " failed", e);
    }
    revision = commandRevision;
    sub = commandSub;
    changes.subList(commandChanges, changes.size()).clear();
    known.clear(); // it may hold the command's own writes
    lastIndex = index;
  }


  @Override
  public void range(byte[] from, byte[] to, Predicate<KeyRecord> visitor) {
    try (RocksIterator base = store.db().newIterator(store.kv);
         RocksIterator it = batch.newIteratorWithBase(store.kv, base)) {
      for (it.seek(from); it.isValid() && KvView.below(it.key(), to); it.next()) {
        if (!visitor.test(MvccStore.parseKey(it.value()))) {
          return;
        }
      }
    }
  }

  @Override
  public void rangeAt(byte[] from, byte[] to, long rev, Predicate<KeyRecord> visitor) {
    try (RocksIterator base = store.db().newIterator(store.revs);
         RocksIterator it = batch.newIteratorWithBase(store.revs, base)) {
      KvView.walkRevs(it, from, to, rev, visitor);
    }
  }

  /** The revision of the latest change (or the store's revision before any). */
  @Override
  public long revision() {
    return revision;
  }

  private boolean writeRevisionOpen;

  /**
   * The revision of this command's v3 writes, opened on first use: a v3 command that changes
   * several keys (a txn) makes one revision, one that changes nothing makes none.
   */
  public long writeRevision() {
    if (!writeRevisionOpen) {
      nextRevision();
      writeRevisionOpen = true;
    }
    return revision;
  }

  /** Opens a new revision: the changes recorded after this call carry it. */
  public long nextRevision() {
    revision++;
    sub = 0;
    return revision;
  }

  @Override
  public KeyRecord get(byte[] key) {
    ByteBuffer k = ByteBuffer.wrap(key);
    KeyRecord r = known.get(k);
    if (r != null || known.containsKey(k)) {
      return r;
    }
    try {
      byte[] v = batch.getFromBatchAndDB(store.db(), store.kv, readOptions, key);
      r = v == null ? null : MvccStore.parseKey(v);
    } catch (RocksDBException e) {
      throw new StoreException("read during apply failed", e);
    }
    known.put(ByteBuffer.wrap(key.clone()), r); // the caller's array may change
    return r;
  }

  /** Writes {@code rec} (its key, revisions and version already set) and records the change. */
  public void put(KeyRecord rec, KeyRecord prev) {
    try {
      byte[] key = rec.getKey().toByteArray();
      batch.put(store.kv, key, rec.toByteArray());
      known.put(ByteBuffer.wrap(key), rec);
      ChangeRecord change = ChangeRecord.newBuilder().setType(ChangeRecord.Type.PUT).setKv(rec).build();
      byte[] version = change.toByteArray();
      changes.add(prev == null ? change : change.toBuilder().setPrevKv(prev).build());
      record(key, version, prev != null);
    } catch (RocksDBException e) {
      throw new StoreException("write during apply failed", e);
    }
  }

  /** Deletes the live key {@code prev} at the current revision and records the change. */
  public void delete(KeyRecord prev) {
    try {
      byte[] key = prev.getKey().toByteArray();
      batch.delete(store.kv, key);
      known.put(ByteBuffer.wrap(key), null);
      var tomb = KeyRecord.newBuilder().setKey(prev.getKey()).setModRevision(revision).build();
      var change = ChangeRecord.newBuilder().setType(ChangeRecord.Type.DELETE).setKv(tomb);
      byte[] version = change.build().toByteArray();
      changes.add(change.setPrevKv(prev).build());
      record(key, version, true);
    } catch (RocksDBException e) {
      throw new StoreException("delete during apply failed", e);
    }
  }

  /** {@code prev_in_revs = true}, encoded: appended to a record it sets that field. */
  private static final byte[] PREV_IN_REVS = ChangeRecord.newBuilder().setPrevInRevs(true).build().toByteArray();

  /**
   * Writes a change's version record into {@code revs} and its history record: the same bytes,
   * plus {@code prev_in_revs} when the key had a previous version. The previous version is not
   * copied into the history (it sits just before this one in {@code revs}): a 100,000-key
   * DeleteRange with 1 KiB values wrote 100 MB less that way.
   */
  private void record(byte[] key, byte[] version, boolean hasPrev) throws RocksDBException {
    batch.put(store.revs, RevKey.encode(key, revision, sub), version);
    byte[] history = version;
    if (hasPrev) {
      history = Arrays.copyOf(version, version.length + PREV_IN_REVS.length);
      System.arraycopy(PREV_IN_REVS, 0, history, version.length, PREV_IN_REVS.length);
    }
    batch.put(store.history, MvccStore.revKey(revision, sub++), history);
  }

  /**
   * Visits live keys that start with {@code prefix}, in key order, as the command sees them;
   * stops when {@code visitor} returns false.
   */
  public void scan(byte[] prefix, Predicate<KeyRecord> visitor) {
    try (RocksIterator base = store.db().newIterator(store.kv);
         RocksIterator it = batch.newIteratorWithBase(store.kv, base)) {
      for (it.seek(prefix); it.isValid() && startsWith(it.key(), prefix); it.next()) {
        if (!visitor.test(MvccStore.parseKey(it.value()))) {
          return;
        }
      }
    }
  }

  public void addTtl(long expireAtNanos, byte[] key) {
    try {
      batch.put(store.ttl, ttlKey(expireAtNanos, key), new byte[0]);
    } catch (RocksDBException e) {
      throw new StoreException("ttl index write failed", e);
    }
  }

  public void removeTtl(long expireAtNanos, byte[] key) {
    try {
      batch.delete(store.ttl, ttlKey(expireAtNanos, key));
    } catch (RocksDBException e) {
      throw new StoreException("ttl index write failed", e);
    }
  }

  /** Keys whose expiry is at or before {@code nowNanos}, earliest first. */
  public java.util.List<byte[]> expiredKeys(long nowNanos) {
    var out = new java.util.ArrayList<byte[]>();
    try (RocksIterator base = store.db().newIterator(store.ttl);
         RocksIterator it = batch.newIteratorWithBase(store.ttl, base)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        byte[] k = it.key();
        if (ByteBuffer.wrap(k).getLong() > nowNanos) {
          break;
        }
        out.add(Arrays.copyOfRange(k, 8, k.length));
      }
    }
    return out;
  }

  public void putV2Event(long rev, byte[] event) {
    try {
      batch.put(store.v2events, MvccStore.longBytes(rev), event);
    } catch (RocksDBException e) {
      throw new StoreException("v2 event write failed", e);
    }
  }

  public void deleteV2Event(long rev) {
    try {
      batch.delete(store.v2events, MvccStore.longBytes(rev));
    } catch (RocksDBException e) {
      throw new StoreException("v2 event delete failed", e);
    }
  }

  // --- leases: plain records beside the MVCC keys (not revisions of their own) ---

  public byte[] getLease(long id) {
    try {
      return batch.getFromBatchAndDB(store.db(), store.leases, readOptions, MvccStore.longBytes(id));
    } catch (RocksDBException e) {
      throw new StoreException("lease read during apply failed", e);
    }
  }

  public void putLease(long id, byte[] record) {
    try {
      batch.put(store.leases, MvccStore.longBytes(id), record);
    } catch (RocksDBException e) {
      throw new StoreException("lease write failed", e);
    }
  }

  /** Removes the lease record and its attachment index (not the keys themselves). */
  public void deleteLease(long id) {
    try {
      batch.delete(store.leases, MvccStore.longBytes(id));
      for (byte[] key : leaseKeys(id)) {
        batch.delete(store.leases, attachKey(id, key));
      }
    } catch (RocksDBException e) {
      throw new StoreException("lease delete failed", e);
    }
  }

  public void attach(long id, byte[] key) {
    try {
      batch.put(store.leases, attachKey(id, key), new byte[0]);
    } catch (RocksDBException e) {
      throw new StoreException("lease attach failed", e);
    }
  }

  public void detach(long id, byte[] key) {
    try {
      batch.delete(store.leases, attachKey(id, key));
    } catch (RocksDBException e) {
      throw new StoreException("lease detach failed", e);
    }
  }

  /** Store keys attached to lease {@code id}, as this command sees them. */
  public java.util.List<byte[]> leaseKeys(long id) {
    return LeaseIndex.keys(batch.newIteratorWithBase(store.leases, store.db().newIterator(store.leases)), id);
  }

  static byte[] attachKey(long id, byte[] key) {
    return ByteBuffer.allocate(8 + key.length).putLong(id).put(key).array();
  }

  /** A replicated meta record (cluster membership), written with the group. */
  public void putMeta(String key, byte[] value) {
    try {
      batch.put(store.meta, MvccStore.bytes(key), value);
    } catch (RocksDBException e) {
      throw new StoreException("write of meta " + key + " failed", e);
    }
  }

  /** Writes the group's changes with the new revision and the last applied index, atomically. */
  public void commit() {
    try {
      batch.put(store.meta, MvccStore.bytes("revision"), MvccStore.longBytes(revision));
      batch.put(store.meta, MvccStore.bytes("applied_index"), MvccStore.longBytes(lastIndex));
      store.db().write(store.writeOptions, batch);
      store.committed(lastIndex, revision);
    } catch (RocksDBException e) {
      throw new StoreException("commit of log index " + index + " failed", e);
    }
  }

  @Override
  public void close() {
    batch.close();
    readOptions.close();
  }

  static byte[] ttlKey(long expireAtNanos, byte[] key) {
    return ByteBuffer.allocate(8 + key.length).putLong(expireAtNanos).put(key).array();
  }

  static boolean startsWith(byte[] a, byte[] prefix) {
    if (a.length < prefix.length) {
      return false;
    }
    return Arrays.equals(a, 0, prefix.length, prefix, 0, prefix.length);
  }
}
