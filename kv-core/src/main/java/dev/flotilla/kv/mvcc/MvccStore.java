package dev.flotilla.kv.mvcc;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.flotilla.proto.store.ChangeRecord;
import dev.flotilla.proto.store.KeyRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.StampedLock;
import org.rocksdb.AbstractNativeReference;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.DataBlockIndexType;
import org.rocksdb.FlushOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.Snapshot;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteOptions;

/**
 * The MVCC state on RocksDB. Column families:
 * <ul>
 *   <li>{@code kv}: internal key → {@link KeyRecord}, the live keys (latest revision);</li>
 *   <li>{@code history}: revision(8) ‖ sub(4) → {@link ChangeRecord}, every change in revision
 *       order, kept for watches until compaction (v3 keys only, as {@code revs}); a change's previous version is not copied
 *       there ({@code prev_in_revs}): it is the record before the change's own in {@code revs};
 *       nor is a PUT's version itself ({@code kv_in_revs}): it is the change's own record there;</li>
 *   <li>{@code ttl}: expire-at nanos(8) ‖ internal key → empty, the v2 expiry index;</li>
 *   <li>{@code v2events}: revision(8) → v2 event, the v2 watch window and up to 1,024 indexes of
 *       older events (trimmed in runs by the state machine);</li>
 *   <li>{@code revs}: key ‖ revision ‖ sub → {@link ChangeRecord}, every version of every v3 key
 *       in key order, for reads at a past revision (see {@link RevKey}; v2 keys keep none, see
 *       {@link #UNVERSIONED_KEYSPACE});</li>
 *   <li>{@code leases}: lease id(8) → lease record; id(8) ‖ key → empty, the keys attached;</li>
 *   <li>{@code meta}: applied log index, current revision, compacted revision, identity.</li>
 * </ul>
 * RocksDB's own WAL is off: the store's log (replayed from {@link #appliedIndex()}) is the
 * durability, and atomic flush keeps the applied index consistent with the data in every CF.
 *
 * <p>Writes come from one thread (the apply thread) through {@link #begin()}; reads from
 * any thread through {@link #snapshot()}. The apply thread's reads of single keys go through a
 * {@link KvCache} of committed records first.
 */
public final class MvccStore implements AutoCloseable {
  static {
    RocksNative.load();
  }

  private static final byte[] META_APPLIED = bytes("applied_index");
  private static final byte[] META_REVISION = bytes("revision");

  private final RocksDB db;
  private final DBOptions dbOptions;
  /** The column families' options and what they hold (closed with the store). */
  private final List<? extends AbstractNativeReference> nativeOptions;
  private final List<ColumnFamilyHandle> handles;
  /**
   * The first byte of the keys whose changes keep no versions in {@code revs} and no records in
   * {@code history}: the v2 keyspace ({@code V2Path.KEYSPACE}). Only v3 reads at a past revision
   * and v3 watches read those, and they see v3 keys only; etcd 3.4 keeps no MVCC history of its v2
   * store either (its watch window is {@code v2events} here). Writing them cost a v2 PUT two of its
   * five records on every member, one of them inserted at a random place in the memtable.
   */
  public static final byte UNVERSIONED_KEYSPACE = 0x02;
  final ColumnFamilyHandle kv;
  /** Committed kv records the apply thread has met, so that it need not read them again (apply thread only). */
  final KvCache kvCache = new KvCache(32L << 20);
  final ColumnFamilyHandle history;
  final ColumnFamilyHandle ttl;
  final ColumnFamilyHandle v2events;
  final ColumnFamilyHandle meta;
  final ColumnFamilyHandle revs;
  final ColumnFamilyHandle leases;
  final WriteOptions writeOptions;

  private volatile long appliedIndex;
  private volatile long revision;
  /**
   * Held by the apply thread while it writes live keys (a group's commit, a restore); readers never
   * take it, they only ask it for stamps ({@link #stateStamp()}): a seqlock over the live keys.
   */
  final StampedLock liveKeysWrite = new StampedLock();

  private MvccStore(RocksDB db, DBOptions dbOptions, List<? extends AbstractNativeReference> nativeOptions,
      List<ColumnFamilyHandle> handles) throws RocksDBException {
    this.db = db;
    this.dbOptions = dbOptions;
    this.nativeOptions = nativeOptions;
    this.handles = handles;
    this.kv = handles.get(1);
    this.history = handles.get(2);
    this.ttl = handles.get(3);
    this.v2events = handles.get(4);
    this.meta = handles.get(5);
    this.revs = handles.get(6);
    this.leases = handles.get(7);
    this.writeOptions = new WriteOptions().setDisableWAL(true);
    this.appliedIndex = readLong(db.get(meta, META_APPLIED));
    this.revision = revisionOf(db.get(meta, META_REVISION));
    this.compactRevision = readLong(db.get(meta, META_COMPACT));
  }

  private static final byte[] META_COMPACT = bytes("compact_revision");
  private volatile long compactRevision;

  /** Revisions below this were compacted away: reads there fail. */
  public long compactRevision() {
    return compactRevision;
  }

  /**
   * Records {@code rev} as the compaction point and deletes the history it makes
   * unreachable: changes below it, and every version of a key older than its newest version
   * at or below it (and that one too when it is a deletion). Apply thread only.
   */
  public void compact(long rev) {
    try {
      db.put(meta, writeOptions, META_COMPACT, longBytes(rev));
      compactRevision = rev;
      db.deleteRange(history, writeOptions, revKey(0, 0), revKey(rev, 0));
      try (RocksIterator it = db.newIterator(revs);
           var batch = new org.rocksdb.WriteBatch()) {
        byte[] pendingKey = null;
        byte[] pendingRev = null; // newest version <= rev of pendingKey seen so far
        boolean pendingIsDelete = false;
        for (it.seekToFirst(); it.isValid(); it.next()) {
          byte[] k = it.key();
          byte[] user = RevKey.userKey(k);
          long r = RevKey.revision(k);
          if (pendingKey != null && !java.util.Arrays.equals(pendingKey, user)) {
            if (pendingIsDelete && pendingRev != null) {
              batch.delete(revs, pendingRev);
            }
            pendingKey = null;
            pendingRev = null;
          }
          if (r >= rev) {
            continue; // the rest of this key's versions stay
          }
          if (pendingRev != null) {
            batch.delete(revs, pendingRev); // an older version than the one that stays
          }
          pendingKey = user;
          pendingRev = k.clone();
          pendingIsDelete = parseChange(it.value()).getType() == ChangeRecord.Type.DELETE;
        }
        if (pendingIsDelete && pendingRev != null) {
          batch.delete(revs, pendingRev);
        }
        db.write(writeOptions, batch);
      }
    } catch (RocksDBException e) {
      throw new StoreException("compaction at revision " + rev + " failed", e);
    }
  }

  static ChangeRecord parseChange(byte[] b) {
    try {
      return ChangeRecord.parseFrom(b);
    } catch (InvalidProtocolBufferException e) {
      throw new StoreException("corrupt change record in the store", e);
    }
  }

  /**
   * {@code kv}'s memtable inserts start from where the last insert of the same 16-byte key prefix
   * went (RocksDB's insert hint, one per prefix and memtable), not from the one before it: a new
   * version of a key goes right before the previous one, so rewriting a key found its place from
   * the top of a skip list of ~100,000 versions (walking it was ~1/3 of a v2 PUT's apply on every
   * member). Keys that share their first 16 bytes share a hint, which is what the default does for
   * all keys; keys whose first 16 bytes all differ each take one (a few hundred bytes per prefix and
   * memtable), and when each is written once they insert up to ~1.5x slower (bench/RESULTS.md,
   * fifteenth session).
   */
  private static final java.util.Properties KV_INSERT_HINT = new java.util.Properties();

  static {
    KV_INSERT_HINT.setProperty("memtable_insert_with_hint_prefix_extractor", "rocksdb.CappedPrefix.16");
  }

  /** What RocksDB's OptimizeForPointLookup sets, with the table options (and so the block cache) given. */
  private static ColumnFamilyOptions pointLookup(ColumnFamilyOptions options, BlockBasedTableConfig table) {
    return options.setTableFormatConfig(table).setMemtablePrefixBloomSizeRatio(0.02).setMemtableWholeKeyFiltering(true);
  }

  public static MvccStore open(Path dir) throws IOException {
    Files.createDirectories(dir);
    // OptimizeForPointLookup(64), with its block cache shared by the two options objects
    var cache = new LRUCache(64L << 20);
    var filter = new BloomFilter(10);
    var table = new BlockBasedTableConfig().setBlockCache(cache).setFilterPolicy(filter)
        .setDataBlockIndexType(DataBlockIndexType.kDataBlockBinaryAndHash).setDataBlockHashTableUtilRatio(0.75)
        .setUniformCvThreshold(-1); // RocksDB's default; RocksJava's table config says 0.2
    var cfOptions = pointLookup(new ColumnFamilyOptions(), table);
    var hinted = ColumnFamilyOptions.getColumnFamilyOptionsFromProps(KV_INSERT_HINT);
    if (hinted == null) {
      throw new IllegalStateException("this RocksDB build does not take " + KV_INSERT_HINT);
    }
    var kvOptions = pointLookup(hinted, table);
    var dbOptions = new DBOptions()
        .setCreateIfMissing(true)
        .setCreateMissingColumnFamilies(true)
        .setAtomicFlush(true)
        .setMaxBackgroundJobs(2);
    var descriptors = List.of(
        new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions),
        new ColumnFamilyDescriptor(bytes("kv"), kvOptions),
        new ColumnFamilyDescriptor(bytes("history"), cfOptions),
        new ColumnFamilyDescriptor(bytes("ttl"), cfOptions),
        new ColumnFamilyDescriptor(bytes("v2events"), cfOptions),
        new ColumnFamilyDescriptor(bytes("meta"), cfOptions),
        new ColumnFamilyDescriptor(bytes("revs"), cfOptions),
        new ColumnFamilyDescriptor(bytes("leases"), cfOptions));
    var handles = new ArrayList<ColumnFamilyHandle>();
    try {
      RocksDB db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
      return new MvccStore(db, dbOptions, List.of(cfOptions, kvOptions, filter, cache), handles);
    } catch (RocksDBException e) {
      throw new IOException("cannot open the store's RocksDB at " + dir + ": " + e.getMessage(), e);
    }
  }

  /** The last log index whose command is reflected in this store. */
  public long appliedIndex() {
    return appliedIndex;
  }

  /** The current (latest) revision. */
  public long revision() {
    return revision;
  }

  /**
   * A stamp naming the current state of the live keys, or 0 while a write of them is under way.
   * Two equal non-zero stamps name the same state: a reader that takes a view after getting a stamp
   * and finds {@link #unchangedSince} it afterwards read exactly the state that stamp names, which
   * is what lets answers rendered from that state be reused while the stamp stays the same.
   */
  public long stateStamp() {
    return liveKeysWrite.tryOptimisticRead();
  }

  /** Whether no write of the live keys has begun since {@code stamp} was issued (false for 0). */
  public boolean unchangedSince(long stamp) {
    return liveKeysWrite.validate(stamp);
  }

  /**
   * The group whose native write batch waits for the next {@link #begin()}: making one anew (the
   * batch, its index, its unindexed view and read options, four JNI allocations, one of them
   * looking up classes and methods) had cost the apply thread of a follower ~6% of its CPU under
   * the v2 PUT load, where groups are small. Null while that group is in use.
   */
  private final AtomicReference<WriteTxn> spare = new AtomicReference<>();
  private volatile boolean closed;

  /** Starts a group of commands; apply thread only. Close it to end it (committed or not). */
  public WriteTxn begin() {
    WriteTxn txn = spare.getAndSet(null);
    if (txn == null) {
      return new WriteTxn(this, revision);
    }
    txn.reset(revision);
    return txn;
  }

  /** Takes back a closed group to reuse its native batch; false when one is kept already (then free it). */
  boolean keep(WriteTxn txn) {
    return !closed && spare.compareAndSet(null, txn);
  }

  void committed(long index, long newRevision) {
    this.revision = newRevision;
    this.appliedIndex = index;
    Pin stale = pinned.getAndSet(null); // no longer the latest: let RocksDB drop what it holds
    if (stale != null) {
      stale.release();
    }
  }

  /**
   * A RocksDB snapshot with its read options and the store's revision in it, shared by the views
   * opened while no write comes ({@link #snapshot()}): a v2 GET made, read from and released a
   * snapshot and a {@code ReadOptions} of its own and read the revision again (6% of the leader's
   * CPU under a GET load, bench/RESULTS.md). Counted: the store holds one reference while it is
   * the latest, each view one; the last release frees it.
   */
  static final class Pin {
    final Snapshot snapshot;
    /** The snapshot's sequence number (read once: a JNI call each time). */
    final long sequence;
    final ReadOptions options;
    final long revision;
    private final RocksDB db;
    private int refs = 1;

    private Pin(RocksDB db, Snapshot snapshot, ColumnFamilyHandle meta) {
      this.db = db;
      this.snapshot = snapshot;
      this.sequence = snapshot.getSequenceNumber();
      this.options = new ReadOptions().setSnapshot(snapshot);
      try {
        this.revision = revisionOf(db.get(meta, options, bytes("revision")));
      } catch (RocksDBException e) {
        options.close();
        db.releaseSnapshot(snapshot);
        throw new StoreException("read of the revision failed", e);
      }
    }

    /** Takes a reference; false once freed. */
    synchronized boolean retain() {
      if (refs == 0) {
        return false;
      }
      refs++;
      return true;
    }

    void release() {
      synchronized (this) {
        if (--refs > 0) {
          return;
        }
      }
      options.close();
      db.releaseSnapshot(snapshot);
    }
  }

  /** The latest pin, or null; see {@link Pin}. */
  private final AtomicReference<Pin> pinned = new AtomicReference<>();

  /**
   * A consistent point-in-time view for readers; close it after use. Views opened while the store
   * takes no write share one RocksDB snapshot: one is reused only while its sequence number is
   * still the store's latest, so a view sees every write made before it was opened, as a
   * snapshot of its own would.
   */
  public ReadView snapshot() {
    long latest = db.getLatestSequenceNumber();
    Pin p = pinned.get();
    if (p != null && p.sequence == latest && p.retain()) {
      return new ReadView(this, p);
    }
    Pin fresh = new Pin(db, db.getSnapshot(), meta);
    fresh.retain(); // the view's; the first is the store's while it is the latest
    Pin old = pinned.get();
    if ((old == null || old.sequence < fresh.sequence)
        && pinned.compareAndSet(old, fresh)) {
      if (old != null) {
        old.release();
      }
    } else {
      fresh.release(); // another reader's is as new: the store keeps that one
    }
    return new ReadView(this, fresh);
  }

  /** Flushes memtables of every CF atomically, so the applied index on disk catches up. */
  public void flush() throws IOException {
    try (var fo = new FlushOptions().setWaitForFlush(true)) {
      db.flush(fo, handles);
    } catch (RocksDBException e) {
      throw new IOException("store flush failed: " + e.getMessage(), e);
    }
  }

  /** The applied index as it is on disk now (after {@link #flush()}). */
  public long durableAppliedIndex() throws IOException {
    try (var ro = new ReadOptions()) {
      return readLong(db.get(meta, ro, META_APPLIED));
    } catch (RocksDBException e) {
      throw new IOException(e);
    }
  }

  public byte[] getMeta(String key) {
    try {
      return db.get(meta, bytes(key));
    } catch (RocksDBException e) {
      throw new StoreException("read of meta " + key + " failed", e);
    }
  }

  public void putMetaDurably(String key, byte[] value) throws IOException {
    try (var wo = new WriteOptions().setSync(true)) {
      db.put(meta, wo, bytes(key), value);
      flush();
    } catch (RocksDBException e) {
      throw new IOException("write of meta " + key + " failed: " + e.getMessage(), e);
    }
  }

  /** The earliest expiry instant among v2 nodes with a TTL, or {@code Long.MAX_VALUE}. */
  public long nextExpiry() {
    try (RocksIterator it = db.newIterator(ttl)) {
      it.seekToFirst();
      return it.isValid() ? ByteBuffer.wrap(it.key()).getLong() : Long.MAX_VALUE;
    }
  }

  /**
   * Bytes the store holds (etcd's dbSize, what --quota-backend-bytes limits): its SST files plus
   * what its memtables hold. Memtable memory is allocated in blocks of megabytes, so the
   * memtables count by their contents, not their allocation; defragmenting after a compaction
   * makes the number shrink, as etcd's file does.
   */
  public long sizeBytes() {
    long total = 0;
    try (var from = new org.rocksdb.Slice(new byte[0]);
         var to = new org.rocksdb.Slice(ALL_KEYS_END)) {
      var all = new org.rocksdb.Range(from, to);
      for (ColumnFamilyHandle h : handles) {
        total += db.getLongProperty(h, "rocksdb.total-sst-files-size");
        total += db.getApproximateMemTableStats(h, all).size;
      }
    } catch (RocksDBException e) {
      throw new StoreException("reading the store size failed", e);
    }
    return total;
  }

  /** Above every key the column families hold in practice (keys are user keys or start with one). */
  private static final byte[] ALL_KEYS_END = filled(256, (byte) 0xFF);

  private static byte[] filled(int n, byte b) {
    byte[] a = new byte[n];
    java.util.Arrays.fill(a, b);
    return a;
  }

  /** Estimated bytes of live data (etcd's dbSizeInUse). */
  public long liveBytes() {
    long total = 0;
    try (var from = new org.rocksdb.Slice(new byte[0]);
         var to = new org.rocksdb.Slice(ALL_KEYS_END)) {
      var all = new org.rocksdb.Range(from, to);
      for (ColumnFamilyHandle h : handles) {
        total += db.getLongProperty(h, "rocksdb.estimate-live-data-size");
        total += db.getApproximateMemTableStats(h, all).size;
      }
    } catch (RocksDBException e) {
      throw new StoreException("reading the store size failed", e);
    }
    return total;
  }

  /** Meta keys that belong to this member, not to the replicated state: a restore keeps them. */
  private static final java.util.Set<String> LOCAL_META = java.util.Set.of("member_id", "cluster_id", "cluster_token");

  /**
   * Writes every column family's contents, as of one RocksDB snapshot, to {@code out}: the state a
   * Raft snapshot carries (etcd sends its bbolt file). Records: CF number (1 byte), key length,
   * key, value length, value; a 0 byte ends the stream. The member's own identity is left out.
   */
  public void dump(java.io.DataOutputStream out) throws IOException {
    try (DumpPoint point = dumpPoint()) {
      point.dump(out);
    }
  }

  /**
   * The store as it is now, to {@link DumpPoint#dump} later (from any thread, while writes go on):
   * a RocksDB snapshot, held until the point is closed.
   */
  public DumpPoint dumpPoint() {
    return new DumpPoint(db.getSnapshot());
  }

  /** A point-in-time view of the whole store for {@link #dump}; close it to release the RocksDB snapshot. */
  public final class DumpPoint implements AutoCloseable {
    private final org.rocksdb.Snapshot snap;
    private boolean closed;

    private DumpPoint(org.rocksdb.Snapshot snap) {
      this.snap = snap;
    }

    /** Writes the store as of this point, in {@link MvccStore#dump}'s format. */
    public void dump(java.io.DataOutputStream out) throws IOException {
      dumpAt(snap, out);
    }

    @Override
    public synchronized void close() {
      if (!closed) {
        closed = true;
        db.releaseSnapshot(snap);
      }
    }
  }

  private void dumpAt(org.rocksdb.Snapshot snap, java.io.DataOutputStream out) throws IOException {
    try (var ro = new ReadOptions().setSnapshot(snap)) {
      for (int cf = 1; cf < handles.size(); cf++) {
        try (RocksIterator it = db.newIterator(handles.get(cf), ro)) {
          for (it.seekToFirst(); it.isValid(); it.next()) {
            byte[] k = it.key();
            if (handles.get(cf) == meta && LOCAL_META.contains(new String(k, java.nio.charset.StandardCharsets.UTF_8))) {
              continue;
            }
            byte[] v = it.value();
            out.writeByte(cf);
            out.writeInt(k.length);
            out.write(k);
            out.writeInt(v.length);
            out.write(v);
          }
        }
      }
      out.writeByte(0);
    }
  }

  /**
   * Replaces the replicated state with a {@link #dump} (a snapshot from the leader) and makes it
   * durable before returning. Apply thread only; readers' open views keep their old state.
   */
  public void restore(java.io.DataInputStream in) throws IOException {
    kvCache.clear(); // whatever happens below, the records it knew are no longer the store's
    long writing = liveKeysWrite.writeLock();
    try (var batch = new org.rocksdb.WriteBatch()) {
      for (int cf = 1; cf < handles.size(); cf++) {
        try (RocksIterator it = db.newIterator(handles.get(cf))) {
          for (it.seekToFirst(); it.isValid(); it.next()) {
            byte[] k = it.key();
            if (handles.get(cf) == meta && LOCAL_META.contains(new String(k, java.nio.charset.StandardCharsets.UTF_8))) {
              continue;
            }
            batch.delete(handles.get(cf), k);
          }
        }
      }
      db.write(writeOptions, batch);
      batch.clear();
      int cf;
      while ((cf = in.readUnsignedByte()) != 0) {
        if (cf >= handles.size()) {
          throw new IOException("store snapshot names column family " + cf + ", this store has " + handles.size());
        }
        byte[] k = in.readNBytes(in.readInt());
        byte[] v = in.readNBytes(in.readInt());
        batch.put(handles.get(cf), k, v);
        if (batch.getDataSize() > (16 << 20)) {
          db.write(writeOptions, batch);
          batch.clear();
        }
      }
      db.write(writeOptions, batch);
      flush();
      this.appliedIndex = readLong(db.get(meta, META_APPLIED));
      this.revision = revisionOf(db.get(meta, META_REVISION));
      this.compactRevision = readLong(db.get(meta, META_COMPACT));
    } catch (RocksDBException e) {
      throw new IOException("restoring the store from a snapshot failed: " + e.getMessage(), e);
    } finally {
      liveKeysWrite.unlockWrite(writing);
    }
  }

  /**
   * etcd's Defragment: flushes, then compacts every column family's whole key range, so that space
   * held by deleted and overwritten records (compacted history, tombstones) goes back to the disk.
   */
  public void defragment() throws IOException {
    flush();
    try (var opts = new org.rocksdb.CompactRangeOptions()
        .setBottommostLevelCompaction(org.rocksdb.CompactRangeOptions.BottommostLevelCompaction.kForce)) {
      for (ColumnFamilyHandle h : handles) {
        db.compactRange(h, null, null, opts);
      }
    } catch (RocksDBException e) {
      throw new IOException("defragmenting the store failed: " + e.getMessage(), e);
    }
  }

  /**
   * Makes a store restored from a backup a new member's store: the log position and the member list
   * and the alarms belong to the cluster the backup came from, so they go (the new log starts at index 1 and its
   * founders' conf changes write the new list); keys, history, leases and alarms stay.
   */
  public void forgetClusterState() throws IOException {
    try (var wo = new WriteOptions().setSync(true)) {
      db.delete(meta, wo, META_APPLIED);
      db.delete(meta, wo, bytes("members"));
      db.delete(meta, wo, bytes("alarms")); // raised by members of the old cluster
      flush();
      this.appliedIndex = 0;
    } catch (RocksDBException e) {
      throw new IOException("resetting the restored store failed: " + e.getMessage(), e);
    }
  }

  RocksDB db() {
    return db;
  }

  @Override
  public void close() {
    try {
      flush();
    } catch (IOException ignored) {
      // closing after a failure: the log replays what the memtable lost
    }
    closed = true;
    Pin p = pinned.getAndSet(null);
    if (p != null) {
      p.release();
    }
    WriteTxn kept = spare.getAndSet(null);
    if (kept != null) {
      kept.free();
    }
    writeOptions.close();
    for (ColumnFamilyHandle h : handles) {
      h.close();
    }
    db.close();
    dbOptions.close();
    nativeOptions.forEach(AbstractNativeReference::close);
  }

  static KeyRecord parseKey(byte[] b) {
    try {
      return KeyRecord.parseFrom(b);
    } catch (InvalidProtocolBufferException e) {
      throw new StoreException("corrupt key record in the store", e);
    }
  }

  /**
   * {@link #parseKey} for an array nobody changes or reuses afterwards (a fresh one from a RocksDB
   * read): the record's key and value share it instead of copying it (a big DeleteRange holds
   * every record it deletes until its watchers are told).
   */
  static KeyRecord parseKeySharing(byte[] b) {
    try {
      var in = com.google.protobuf.CodedInputStream.newInstance(b);
      in.enableAliasing(true);
      KeyRecord rec = KeyRecord.parseFrom(in);
      in.checkLastTagWas(0);
      return rec;
    } catch (IOException e) {
      throw new StoreException("corrupt key record in the store", e);
    }
  }

  static byte[] bytes(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  /**
   * The stored revision; a fresh store is at revision 1, as etcd's: the first write makes
   * revision 2, and a response header never carries revision 0 (which JSON would leave out).
   */
  static long revisionOf(byte[] b) {
    return b == null ? 1 : readLong(b);
  }

  static long readLong(byte[] b) {
    return b == null ? 0 : ByteBuffer.wrap(b).getLong();
  }

  static byte[] longBytes(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }

  static byte[] revKey(long rev, int sub) {
    return ByteBuffer.allocate(12).putLong(rev).putInt(sub).array();
  }
}
