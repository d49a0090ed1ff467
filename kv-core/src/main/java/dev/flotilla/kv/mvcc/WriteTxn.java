package dev.flotilla.kv.mvcc;

import com.google.protobuf.CodedOutputStream;
import dev.flotilla.proto.store.ChangeRecord;
import dev.flotilla.proto.store.KeyRecord;
import java.io.IOException;
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
  /**
   * The same batch without its index, for records no command reads back during apply
   * ({@code history}, {@code v2events}): indexing them was most of their cost. Save points and
   * rollbacks cover them too (a rollback re-indexes whatever is left, these included); not owned.
   */
  private final org.rocksdb.WriteBatch unindexed = batch.getWriteBatch();
  private final ReadOptions readOptions = new ReadOptions();
  private long revision;
  private int sub;
  private final java.util.List<ChangeRecord> changes = new java.util.ArrayList<>();
  /**
   * The {@code kv} records this group has read or written, by key ({@link KvCache#ABSENT} for a
   * key read missing or deleted), always what the batch over the store holds for them: every write
   * to {@code kv} goes through {@link #put} and {@link #delete}, and a rolled-back command's
   * changes to this map are undone with it. A second read of a key in the group needs no store
   * read (a v2 set in {@code /dir} read the directory once per command), and the store's
   * {@link KvCache} learns it all when the group commits.
   */
  private final java.util.HashMap<StoreKey, KeyRecord> seen = new java.util.HashMap<>();
  /** The current command's changes to {@link #seen}, in order: key, then what it mapped to (or null). */
  private final java.util.ArrayList<Object> undo = new java.util.ArrayList<>();
  /**
   * The key ranges [from, to) that this group's big DeleteRanges emptied ({@link #deleteAll}), in
   * order. Their keys do not go into {@link #seen} one by one (160,000 hashings and entries for
   * etcdctl check perf's clean-up): a key in one of these ranges that seen does not hold has not
   * been written since, so it is absent. The {@link KvCache} forgets everything when such a
   * group commits.
   */
  private final java.util.ArrayList<byte[][]> emptied = new java.util.ArrayList<>();
  /** {@link #emptied}'s size when the current command started. */
  private int commandEmptied;
  private static final KeyRecord ABSENT = KvCache.ABSENT;
  /** The largest closed group kept for reuse ({@link #close()}): batch bytes and keys seen. */
  private static final long KEEP_BATCH_BYTES = 4L << 20;
  private static final int KEEP_SEEN_KEYS = 16_384;
  /** False once closed: a second close does nothing. */
  private boolean open = true;
  /**
   * Whether the batch holds {@code kv} or {@code revs} writes that its index does not know of (a
   * big DeleteRange's, {@link #deleteAll}): an iterator over the batch would not see them, so
   * every read of those column families through the batch first calls {@link #indexAll()}. Point
   * reads of {@code kv} need not: {@link #seen} holds every key those writes deleted.
   */
  private boolean unindexedKeys;
  /**
   * Whether the batch holds a range delete ({@link #deleteV2EventsBelow}). WriteBatchWithIndex
   * cannot index one ("unknown WriteBatch tag in ReBuildIndex"), so no command may follow it in the
   * group: one that failed would roll back to its save point, which indexes the batch anew.
   */
  private boolean rangeDeleted;
  /** From this many keys on, {@link #deleteAll} leaves its writes out of the batch's index. */
  static final int UNINDEXED_DELETE_MIN = 1024;

  /**
   * The changes the group's commands made to keys outside the v2 keyspace, in order (each with its
   * revision in its kv): what v3 watchers are told.
   */
  public java.util.List<ChangeRecord> changes() {
    return changes;
  }

  WriteTxn(MvccStore store, long revision) {
    this.store = store;
    this.revision = revision;
  }

  /** Makes a closed group a new one on the store's {@code revision} ({@link MvccStore#begin()}). */
  void reset(long revision) {
    open = true;
    this.revision = revision;
    index = 0;
    lastIndex = 0;
    sub = 0;
    writeRevisionOpen = false;
    unindexedKeys = false;
    rangeDeleted = false;
    emptied.clear();
  }

  /** Starts the changes of the command at log {@code index}. */
  public void startCommand(long index) {
    if (rangeDeleted) {
      throw new IllegalStateException("a command after the group's range delete of v2 events (log index " + index + ")");
    }
    batch.setSavePoint();
    this.index = index;
    this.commandRevision = revision;
    this.commandSub = sub;
    this.commandChanges = changes.size();
    this.commandEmptied = emptied.size();
    this.writeRevisionOpen = false;
    undo.clear();
  }

  /** Keeps the command's changes. */
  public void endCommand() {
    try {
      batch.popSavePoint();
    } catch (RocksDBException e) {
      throw new StoreException("ending the command at " + index + " failed", e);
    }
    undo.clear();
    lastIndex = index;
  }

  /** Drops the command's changes: it failed, but it still takes its place in the log. */
  public void abortCommand() {
    try {
      batch.rollbackToSavePoint();
    } catch (RocksDBException e) {
      throw new StoreException("rolling back the command at " + index + " failed", e);
    }
    unindexedKeys = false; // a rollback indexes the whole batch anew
    revision = commandRevision;
    sub = commandSub;
    changes.subList(commandChanges, changes.size()).clear();
    emptied.subList(commandEmptied, emptied.size()).clear();
    for (int i = undo.size() - 2; i >= 0; i -= 2) {
      StoreKey k = (StoreKey) undo.get(i);
      KeyRecord before = (KeyRecord) undo.get(i + 1);
      if (before == null) {
        seen.remove(k);
      } else {
        seen.put(k, before);
      }
    }
    undo.clear();
    lastIndex = index;
  }


  /**
   * Makes the batch's index cover every write in it ({@link #unindexedKeys}): WriteBatchWithIndex
   * rebuilds its index from the whole batch when it rolls back to a save point, so a save point
   * set and rolled back at once does that and nothing else (the command's own save point stays).
   * It costs as much as indexing the batch did, but only a read of a range after a big
   * DeleteRange in the same group needs it.
   */
  private void indexAll() {
    if (!unindexedKeys) {
      return;
    }
    try {
      batch.setSavePoint();
      batch.rollbackToSavePoint();
    } catch (RocksDBException e) {
      throw new StoreException("indexing the writes of log index " + index + " failed", e);
    }
    unindexedKeys = false;
  }

  @Override
  public void range(byte[] from, byte[] to, Predicate<KeyRecord> visitor) {
    indexAll();
    try (RocksIterator base = store.db().newIterator(store.kv);
         RocksIterator it = batch.newIteratorWithBase(store.kv, base)) {
      for (it.seek(from); it.isValid() && KvView.below(it.key(), to); it.next()) {
        if (!visitor.test(MvccStore.parseKeySharing(it.value()))) {
          return;
        }
      }
    }
  }

  /**
   * The live records in [from, to) for a DeleteRange to delete ({@link #deleteAll}), in key order:
   * whole while fewer than {@link #UNINDEXED_DELETE_MIN}; from there on, unless {@code withValues}
   * (the client asked for prev_kvs), without their values (key, revisions, version and lease):
   * a delete of that many keys keeps no previous versions in memory, its watchers read them
   * from {@code revs}, so its scan neither copies nor parses the values (1 KiB each in etcdctl
   * check perf) nor holds them until the group ends.
   */
  public java.util.List<KeyRecord> deletable(byte[] from, byte[] to, boolean withValues) {
    indexAll();
    var out = new java.util.ArrayList<KeyRecord>();
    try (RocksIterator base = store.db().newIterator(store.kv);
         RocksIterator it = batch.newIteratorWithBase(store.kv, base)) {
      for (it.seek(from); it.isValid(); it.next()) {
        byte[] key = it.key();
        if (!KvView.below(key, to)) {
          break;
        }
        if (withValues || out.size() < UNINDEXED_DELETE_MIN) {
          out.add(MvccStore.parseKeySharing(it.value()));
          continue;
        }
        int size = it.value(valueScratch);
        if (size > valueScratch.length) {
          valueScratch = new byte[Math.max(size, 2 * valueScratch.length)];
          it.value(valueScratch);
        }
        out.add(withoutValue(key, valueScratch, size));
      }
    }
    return out;
  }

  /** Where {@link #deletable} copies a record it reads without its value. */
  private byte[] valueScratch = new byte[4096];

  /** The {@code kv} record of {@code key} encoded in {@code record[0, size)}, all but its value. */
  static KeyRecord withoutValue(byte[] key, byte[] record, int size) {
    var rec = KeyRecord.newBuilder().setKey(com.google.protobuf.UnsafeByteOperations.unsafeWrap(key)); // key: a fresh array
    try {
      var in = com.google.protobuf.CodedInputStream.newInstance(record, 0, size);
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        switch (com.google.protobuf.WireFormat.getTagFieldNumber(tag)) {
          case KeyRecord.CREATE_REVISION_FIELD_NUMBER -> rec.setCreateRevision(in.readInt64());
          case KeyRecord.MOD_REVISION_FIELD_NUMBER -> rec.setModRevision(in.readInt64());
          case KeyRecord.VERSION_FIELD_NUMBER -> rec.setVersion(in.readInt64());
          case KeyRecord.LEASE_FIELD_NUMBER -> rec.setLease(in.readInt64());
          default -> in.skipField(tag); // the key (the same as the store key), the value, v2's fields
        }
      }
    } catch (IOException e) {
      throw new StoreException("corrupt key record in the store", e);
    }
    return rec.build();
  }

  @Override
  public void rangeAt(byte[] from, byte[] to, long rev, Predicate<KeyRecord> visitor) {
    indexAll();
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
    StoreKey k = StoreKey.of(key.clone());
    KeyRecord known = seen.get(k);
    if (known == null && inEmptied(key)) {
      known = ABSENT;
    }
    if (known == null) {
      known = store.kvCache.get(k); // the batch has no write of k (seen would hold it): the store's is current
    }
    if (known != null) {
      see(k, known);
      return known == ABSENT ? null : known;
    }
    try {
      byte[] v = batch.getFromBatchAndDB(store.db(), store.kv, readOptions, key);
      KeyRecord rec = v == null ? null : MvccStore.parseKey(v);
      see(k, rec == null ? ABSENT : rec);
      return rec;
    } catch (RocksDBException e) {
      throw new StoreException("read during apply failed", e);
    }
  }

  private boolean inEmptied(byte[] key) {
    for (byte[][] range : emptied) {
      if (Arrays.compareUnsigned(key, range[0]) >= 0 && KvView.below(key, range[1])) {
        return true;
      }
    }
    return false;
  }

  private void see(StoreKey key, KeyRecord rec) {
    KeyRecord before = seen.put(key, rec);
    if (before != rec) {
      undo.add(key);
      undo.add(before);
    }
  }

  /** Writes {@code rec} (its key, revisions and version already set) and records the change. */
  public void put(KeyRecord rec, KeyRecord prev) {
    try {
      byte[] key = rec.getKey().toByteArray();
      byte[] encoded = rec.toByteArray();
      batch.put(store.kv, key, encoded);
      see(StoreKey.of(key), rec);
      if (unversioned(key)) {
        return; // no versions, no history, no change for v3 watchers: not even their encoding
      }
      ChangeRecord.Builder version = ChangeRecord.newBuilder().setType(ChangeRecord.Type.PUT).setKv(rec);
      if (prev != null) {
        version.setPrevKv(prev);
      }
      changes.add(version.build());
      // the history record points at the version in revs instead of holding a second copy of it
      ChangeRecord.Builder history = ChangeRecord.newBuilder().setType(ChangeRecord.Type.PUT)
          .setKv(KeyRecord.newBuilder().setKey(rec.getKey())).setKvInRevs(true);
      if (prev != null) {
        history.setPrevInRevs(true);
      }
      record(key, putVersion(encoded), history.build().toByteArray());
    } catch (RocksDBException e) {
      throw new StoreException("write during apply failed", e);
    }
  }

  /**
   * The revs record of a PUT, {@code ChangeRecord{type: PUT, kv: rec}}, from {@code rec}'s encoding
   * as the kv record already holds it: the same bytes protobuf would write (type PUT is the
   * default, so absent; kv is field 2, length-delimited), without encoding the version (its key and
   * 1 KiB value, in etcdctl check perf) a second time.
   */
  static byte[] putVersion(byte[] encodedKv) {
    try {
      int size = CodedOutputStream.computeByteArraySize(ChangeRecord.KV_FIELD_NUMBER, encodedKv);
      byte[] out = new byte[size];
      var o = CodedOutputStream.newInstance(out);
      o.writeByteArray(ChangeRecord.KV_FIELD_NUMBER, encodedKv);
      o.checkNoSpaceLeft();
      return out;
    } catch (IOException e) {
      throw new IllegalStateException("encoding a version record failed", e);
    }
  }

  /** Deletes the live key {@code prev} at the current revision and records the change. */
  public void delete(KeyRecord prev) {
    try {
      deleteIndexed(prev);
    } catch (RocksDBException e) {
      throw new StoreException("delete during apply failed", e);
    }
  }

  /**
   * Deletes the live keys {@code doomed} ({@link #deletable}) at the current revision, in order,
   * and records the changes, as {@link #delete} one by one would. From
   * {@link #UNINDEXED_DELETE_MIN} keys on the writes bypass the batch's index (a DeleteRange of
   * 160,000 keys spent a third of its apply indexing 320,000 entries), the reads that would miss
   * them index the batch first ({@link #indexAll()}), and the changes listed for watchers carry
   * {@code prev_in_revs} instead of the previous versions (as the history does).
   */
  public void deleteAll(byte[] from, byte[] to, java.util.List<KeyRecord> doomed) {
    try {
      if (doomed.size() < UNINDEXED_DELETE_MIN) {
        for (KeyRecord prev : doomed) {
          deleteIndexed(prev);
        }
        return;
      }
      for (KeyRecord prev : doomed) {
        deleteUnindexed(prev);
      }
      unindexedKeys = true;
      // every key of [from, to) is absent now: the range stands for its keys in seen
      for (var e : seen.entrySet()) {
        byte[] k = e.getKey().bytes();
        if (e.getValue() != ABSENT && Arrays.compareUnsigned(k, from) >= 0 && KvView.below(k, to)) {
          undo.add(e.getKey());
          undo.add(e.getValue());
          e.setValue(ABSENT);
        }
      }
      emptied.add(new byte[][] {from, to});
    } catch (RocksDBException e) {
      throw new StoreException("delete during apply failed", e);
    }
  }

  /**
   * {@link #delete} of one of many keys ({@link #deleteAll}): its writes bypass the batch's index,
   * its key does not go into {@link #seen} ({@link #emptied} covers it), its change for watchers
   * carries {@code prev_in_revs} instead of {@code prev} (which may lack its value, see
   * {@link #deletable}): V3WatchHub reads it from revs for the watchers that want it.
   */
  private void deleteUnindexed(KeyRecord prev) throws RocksDBException {
    byte[] key = prev.getKey().toByteArray();
    unindexed.delete(store.kv, key);
    if (unversioned(key)) {
      return;
    }
    var tomb = KeyRecord.newBuilder().setKey(prev.getKey()).setModRevision(revision).build();
    changes.add(ChangeRecord.newBuilder().setType(ChangeRecord.Type.DELETE).setKv(tomb).setPrevInRevs(true).build());
    recordUnindexed(key, tomb);
  }

  private void deleteIndexed(KeyRecord prev) throws RocksDBException {
    byte[] key = prev.getKey().toByteArray();
    batch.delete(store.kv, key);
    see(StoreKey.of(key), ABSENT);
    if (unversioned(key)) {
      return;
    }
    var tomb = KeyRecord.newBuilder().setKey(prev.getKey()).setModRevision(revision).build();
    changes.add(ChangeRecord.newBuilder().setType(ChangeRecord.Type.DELETE).setKv(tomb).setPrevKv(prev).build());
    // a tombstone is as small as a pointer to it: the history holds it whole
    byte[] history = deleteHistory(tomb);
    record(key, Arrays.copyOf(history, history.length - PREV_IN_REVS.length), history);
  }

  /**
   * Where {@link #recordUnindexed} encodes a deletion's revs and history records, keys and values,
   * for the batch to copy them from: direct, so that no Java array is made, and copied again by
   * JNI, for each of them (with 1 KiB of garbage per deleted key, a 160,000-key DeleteRange's
   * allocations had the apply thread touching fresh heap pages).
   */
  private ByteBuffer scratch = ByteBuffer.allocateDirect(4096);

  /** {@link #delete}'s revs and history records of {@code tomb}, into the unindexed batch. */
  private void recordUnindexed(byte[] key, KeyRecord tomb) throws RocksDBException {
    int need = 2 * key.length + 14 + 12 + CodedOutputStream.computeMessageSize(ChangeRecord.KV_FIELD_NUMBER, tomb) + 16;
    if (scratch.capacity() < need) {
      scratch = ByteBuffer.allocateDirect(Math.max(need, 2 * scratch.capacity()));
    }
    ByteBuffer b = scratch.clear();
    RevKey.write(b, key, revision, sub);
    int revsKeyEnd = b.position();
    b.putLong(revision).putInt(sub++);
    int historyKeyEnd = b.position();
    try {
      var o = CodedOutputStream.newInstance(b);
      writeDeleteVersion(o, tomb);
      o.flush();
    } catch (IOException e) {
      throw new IllegalStateException("encoding a deletion record failed", e);
    }
    int versionEnd = b.position();
    b.put(PREV_IN_REVS);
    int historyEnd = b.position();
    unindexed.put(store.revs, b.duplicate().position(0).limit(revsKeyEnd),
        b.duplicate().position(historyKeyEnd).limit(versionEnd));
    unindexed.put(store.history, b.duplicate().position(revsKeyEnd).limit(historyKeyEnd),
        b.duplicate().position(historyKeyEnd).limit(historyEnd));
  }

  /** Field 4 ({@code prev_in_revs}) true, as protobuf writes it: the last field of a DELETE's history record. */
  private static final byte[] PREV_IN_REVS = {(byte) (ChangeRecord.PREV_IN_REVS_FIELD_NUMBER << 3), 1};

  /**
   * The history record of a DELETE, {@code ChangeRecord{type: DELETE, kv: tomb, prev_in_revs:
   * true}}, as protobuf writes it (fields in number order); without its last two bytes it is the
   * version record in {@code revs}, {@code ChangeRecord{type: DELETE, kv: tomb}}: one encoding
   * for both, instead of two builds and two encodings.
   */
  static byte[] deleteHistory(KeyRecord tomb) {
    try {
      int size = CodedOutputStream.computeEnumSize(ChangeRecord.TYPE_FIELD_NUMBER, ChangeRecord.Type.DELETE_VALUE)
          + CodedOutputStream.computeMessageSize(ChangeRecord.KV_FIELD_NUMBER, tomb);
      byte[] out = new byte[size + PREV_IN_REVS.length];
      var o = CodedOutputStream.newInstance(out);
      writeDeleteVersion(o, tomb);
      o.writeRawBytes(PREV_IN_REVS);
      o.checkNoSpaceLeft();
      return out;
    } catch (IOException e) {
      throw new IllegalStateException("encoding a deletion record failed", e);
    }
  }

  /** The version record of a DELETE, {@code ChangeRecord{type: DELETE, kv: tomb}}, as protobuf writes it. */
  private static void writeDeleteVersion(CodedOutputStream o, KeyRecord tomb) throws IOException {
    o.writeEnum(ChangeRecord.TYPE_FIELD_NUMBER, ChangeRecord.Type.DELETE_VALUE);
    o.writeMessage(ChangeRecord.KV_FIELD_NUMBER, tomb);
  }

  /**
   * Writes a change's version record into {@code revs} and its history record. Neither copies the
   * previous version of the key (it sits just before this one in {@code revs}: a 100,000-key
   * DeleteRange with 1 KiB values wrote 100 MB less that way), and a PUT's history record does not
   * copy the version either ({@code kv_in_revs}). Keys of the v2 keyspace get neither (see
   * {@link #unversioned}).
   */
  private void record(byte[] key, byte[] version, byte[] history) throws RocksDBException {
    batch.put(store.revs, RevKey.encode(key, revision, sub), version);
    unindexed.put(store.history, MvccStore.revKey(revision, sub++), history);
  }

  /**
   * Visits live keys that start with {@code prefix}, in key order, as the command sees them;
   * stops when {@code visitor} returns false.
   */
  public void scan(byte[] prefix, Predicate<KeyRecord> visitor) {
    indexAll();
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
      unindexed.put(store.v2events, MvccStore.longBytes(rev), event);
    } catch (RocksDBException e) {
      throw new StoreException("v2 event write failed", e);
    }
  }

  /**
   * Deletes every stored v2 event below {@code rev}: one range delete, however many there are.
   * After the group's last command only ({@link #rangeDeleted}).
   */
  public void deleteV2EventsBelow(long rev) {
    rangeDeleted = true;
    try {
      unindexed.deleteRange(store.v2events, MvccStore.longBytes(0), MvccStore.longBytes(rev));
    } catch (RocksDBException e) {
      throw new StoreException("v2 events delete failed", e);
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
      long writing = store.liveKeysWrite.writeLock();
      try {
        store.db().write(store.writeOptions, batch);
        store.committed(lastIndex, revision);
      } finally {
        store.liveKeysWrite.unlockWrite(writing);
      }
      if (!emptied.isEmpty()) {
        store.kvCache.clear(); // it may know keys of the emptied ranges, which seen does not hold
      }
      store.kvCache.putAll(seen);
    } catch (RocksDBException e) {
      throw new StoreException("commit of log index " + index + " failed", e);
    }
  }

  /**
   * Ends the group: what it did not commit is dropped. The store keeps one closed group to reuse
   * its native batch (emptied here); any other is freed.
   */
  @Override
  public void close() {
    if (!open) {
      return;
    }
    open = false;
    // a group that grew big is not kept: a cleared batch keeps its buffer, a cleared map its table
    if (unindexed.getDataSize() > KEEP_BATCH_BYTES || seen.size() > KEEP_SEEN_KEYS) {
      free();
      return;
    }
    batch.clear(); // its save points too
    changes.clear();
    seen.clear();
    undo.clear();
    emptied.clear();
    if (!store.keep(this)) {
      free();
    }
  }

  void free() {
    batch.close();
    readOptions.close();
  }

  /**
   * Whether a change of {@code key} makes no records beyond its {@code kv} record: keys of the v2
   * keyspace ({@link MvccStore#UNVERSIONED_KEYSPACE}) keep no versions in {@code revs} and no
   * {@code history}, since only v3 reads at past revisions and v3 watches read those, and both see v3
   * keys only; for the same reason they are not in {@link #changes()}. Building those records and
   * then dropping them had cost every v2 PUT two protobuf encodings of its whole record, on every member.
   */
  private static boolean unversioned(byte[] key) {
    return key.length > 0 && key[0] == MvccStore.UNVERSIONED_KEYSPACE;
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
