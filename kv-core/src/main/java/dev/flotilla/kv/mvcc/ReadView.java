package dev.flotilla.kv.mvcc;

import dev.flotilla.proto.store.ChangeRecord;
import dev.flotilla.proto.store.KeyRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/** A consistent read of the store at one point: every read sees the same revision. */
public final class ReadView implements KvView, AutoCloseable {
  private final MvccStore store;
  /** The snapshot read from, shared with other views ({@link MvccStore#snapshot()}); one reference is ours. */
  private final MvccStore.Pin pin;
  private final ReadOptions options;
  private final long revision;
  private boolean closed;

  ReadView(MvccStore store, MvccStore.Pin pin) {
    this.store = store;
    this.pin = pin;
    this.options = pin.options;
    this.revision = pin.revision;
  }

  @Override
  public void range(byte[] from, byte[] to, Predicate<KeyRecord> visitor) {
    try (RocksIterator it = store.db().newIterator(store.kv, options)) {
      for (it.seek(from); it.isValid() && KvView.below(it.key(), to); it.next()) {
        if (!visitor.test(MvccStore.parseKey(it.value()))) {
          return;
        }
      }
    }
  }

  @Override
  public void rangeAt(byte[] from, byte[] to, long rev, Predicate<KeyRecord> visitor) {
    try (RocksIterator it = store.db().newIterator(store.revs, options)) {
      KvView.walkRevs(it, from, to, rev, visitor);
    }
  }

  /**
   * etcd's HashKV: a CRC-32C over every stored version (key and record) at or below {@code rev},
   * which compaction, applied through the log, leaves the same on every member.
   */
  public int hashKv(long rev) {
    var crc = new java.util.zip.CRC32C();
    crc.update(MvccStore.bytes("revs"));
    try (RocksIterator it = store.db().newIterator(store.revs, options)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        byte[] k = it.key();
        if (RevKey.revision(k) <= rev) {
          crc.update(k);
          crc.update(it.value());
        }
      }
    }
    return (int) crc.getValue();
  }

  /** The compaction point in this view (0: never compacted). */
  public long compactRevision() {
    try {
      return MvccStore.readLong(store.db().get(store.meta, options, MvccStore.bytes("compact_revision")));
    } catch (RocksDBException e) {
      throw new StoreException("read of the compact revision failed", e);
    }
  }

  /** The store's revision in this view. */
  @Override
  public long revision() {
    return revision;
  }

  @Override
  public KeyRecord get(byte[] key) {
    try {
      byte[] v = store.db().get(store.kv, options, key);
      return v == null ? null : MvccStore.parseKey(v);
    } catch (RocksDBException e) {
      throw new StoreException("read failed", e);
    }
  }

  /** Visits live keys starting with {@code prefix} in key order until {@code visitor} says stop. */
  public void scan(byte[] prefix, Predicate<KeyRecord> visitor) {
    try (RocksIterator it = store.db().newIterator(store.kv, options)) {
      for (it.seek(prefix); it.isValid() && WriteTxn.startsWith(it.key(), prefix); it.next()) {
        if (!visitor.test(MvccStore.parseKey(it.value()))) {
          return;
        }
      }
    }
  }

  /**
   * Direct children of the directory whose keys start with {@code dirPrefix} (ending in '/'):
   * deeper keys are skipped by seeking past each child's subtree, so a listing costs the
   * number of children, not the size of the subtree.
   */
  public List<KeyRecord> children(byte[] dirPrefix) {
    var out = new ArrayList<KeyRecord>();
    try (RocksIterator it = store.db().newIterator(store.kv, options)) {
      it.seek(dirPrefix);
      while (it.isValid() && WriteTxn.startsWith(it.key(), dirPrefix)) {
        byte[] k = it.key();
        int slash = indexOf(k, (byte) '/', dirPrefix.length);
        if (slash < 0) {
          out.add(MvccStore.parseKey(it.value()));
          it.next();
        } else {
          // a deeper key: jump to the first key after "<child>/" ('0' sorts right after '/')
          byte[] next = java.util.Arrays.copyOf(k, slash + 1);
          next[slash] = (byte) ('/' + 1);
          it.seek(next);
        }
      }
    }
    return out;
  }

  /** Changes with revisions in [fromRev, toRev], in revision order, until visitor says stop. */
  public void changes(long fromRev, long toRev, Predicate<ChangeRecord> visitor) {
    changes(fromRev, toRev, c -> false, visitor);
  }

  /**
   * Changes with revisions in [fromRev, toRev], in revision order, until visitor says stop; each
   * change that had a previous version and that {@code withPrevKv} accepts carries that version
   * as its prev_kv (read from {@code revs}, see {@link ChangeRecord#getPrevInRevs()}) while it is
   * there: compaction may have removed it. The others come without prev_kv.
   */
  public void changes(long fromRev, long toRev, Predicate<ChangeRecord> withPrevKv,
      Predicate<ChangeRecord> visitor) {
    try (RocksIterator it = store.db().newIterator(store.history, options);
         RocksIterator versions = store.db().newIterator(store.revs, options)) {
      for (it.seek(MvccStore.revKey(fromRev, 0)); it.isValid(); it.next()) {
        byte[] k = it.key();
        java.nio.ByteBuffer at = java.nio.ByteBuffer.wrap(k);
        long rev = at.getLong();
        if (rev > toRev) {
          return;
        }
        ChangeRecord c = MvccStore.parseChange(it.value());
        int sub = at.getInt();
        if (c.getKvInRevs()) {
          c = ownVersion(c, rev, sub);
        }
        if (c.getPrevInRevs()) {
          c = c.toBuilder().clearPrevInRevs().build();
          if (withPrevKv.test(c)) {
            KeyRecord prev = previousVersion(versions, c.getKv().getKey().toByteArray(), rev, sub);
            if (prev != null) {
              c = c.toBuilder().setPrevKv(prev).build();
            }
          }
        }
        if (!visitor.test(c)) {
          return;
        }
      }
    }
  }

  /**
   * A {@code kv_in_revs} history record made whole: the change's own version from {@code revs}
   * (kept by compaction as long as the history record), with the record's {@code prev_in_revs}.
   */
  private ChangeRecord ownVersion(ChangeRecord pointer, long rev, int sub) {
    byte[] own = RevKey.encode(pointer.getKv().getKey().toByteArray(), rev, sub);
    byte[] v;
    try {
      v = store.db().get(store.revs, options, own);
    } catch (RocksDBException e) {
      throw new StoreException("read of the version at revision " + rev + " failed", e);
    }
    if (v == null) {
      throw new StoreException("the history record at revision " + rev + "." + sub + " names a version of "
          + pointer.getKv().getKey().toStringUtf8() + " that revs does not hold", null);
    }
    return MvccStore.parseChange(v).toBuilder().setPrevInRevs(pointer.getPrevInRevs()).build();
  }

  /** The version of {@code key} just before its change at (rev, sub), or null when there is none. */
  static KeyRecord previousVersion(RocksIterator versions, byte[] key, long rev, int sub) {
    return versionBefore(versions, RevKey.encode(key, rev, sub));
  }

  /** The version of the same key just before the revs record {@code own}, or null when there is none. */
  private static KeyRecord versionBefore(RocksIterator versions, byte[] own) {
    versions.seekForPrev(own);
    if (versions.isValid() && java.util.Arrays.equals(versions.key(), own)) {
      versions.prev();
    }
    if (!versions.isValid() || !sameKey(versions.key(), own)) {
      return null;
    }
    ChangeRecord v = MvccStore.parseChange(versions.value());
    return v.getType() == ChangeRecord.Type.PUT ? v.getKv() : null;
  }

  /** Whether two revs keys are versions of one store key (the escaped key and its terminator are prefix-free). */
  private static boolean sameKey(byte[] a, byte[] b) {
    int keyPart = b.length - 12;
    return a.length == b.length && java.util.Arrays.equals(a, 0, keyPart, b, 0, keyPart);
  }

  /** Live keys (from all of the store) read at this view; for v2 event history loading. */
  public List<byte[]> v2Events() {
    var out = new ArrayList<byte[]>();
    try (RocksIterator it = store.db().newIterator(store.v2events, options)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        out.add(it.value());
      }
    }
    return out;
  }

  public byte[] getLease(long id) {
    try {
      return store.db().get(store.leases, options, MvccStore.longBytes(id));
    } catch (RocksDBException e) {
      throw new StoreException("lease read failed", e);
    }
  }

  public List<byte[]> leaseKeys(long id) {
    return LeaseIndex.keys(store.db().newIterator(store.leases, options), id);
  }

  /** Every lease record (id order). */
  public List<byte[]> leases() {
    var out = new ArrayList<byte[]>();
    try (RocksIterator it = store.db().newIterator(store.leases, options)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        if (it.key().length == 8) {
          out.add(it.value());
        }
      }
    }
    return out;
  }

  static int indexOf(byte[] a, byte b, int from) {
    for (int i = from; i < a.length; i++) {
      if (a[i] == b) {
        return i;
      }
    }
    return -1;
  }

  private RocksIterator versions;

  /**
   * The version of {@code key} that its deletion at revision {@code rev} removed, read from
   * {@code revs} (null: none there, compaction took it): the record before the key's DELETE
   * record of that revision, for a change listed with {@code prev_in_revs} instead of its prev_kv.
   */
  public KeyRecord deletedVersion(byte[] key, long rev) {
    if (versions == null) {
      versions = store.db().newIterator(store.revs, options);
    }
    byte[] last = RevKey.encode(key, rev, -1); // sub -1: after every sub of rev (unsigned order)
    for (versions.seekForPrev(last); versions.isValid(); versions.prev()) {
      byte[] k = versions.key();
      if (!sameKey(k, last) || RevKey.revision(k) != rev) {
        return null; // no deletion of key at rev
      }
      if (MvccStore.parseChange(versions.value()).getType() == ChangeRecord.Type.DELETE) {
        return versionBefore(versions, k);
      }
    }
    return null;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (versions != null) {
      versions.close();
    }
    pin.release();
  }
}
