package dev.flotilla.kv.v2;

import dev.flotilla.kv.mvcc.WriteTxn;
import dev.flotilla.proto.store.KeyRecord;
import dev.flotilla.proto.store.V2Expire;
import dev.flotilla.proto.store.V2Write;
import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.List;

/**
 * Applies v2 commands to the MVCC store with etcd 3.4's v2 store semantics (etcd's
 * store.go: Set, Create, Update, CompareAndSwap, Delete, CompareAndDelete, DeleteExpiredKeys).
 * Each event takes the next revision, which is its v2 index. Deterministic: time comes from
 * the command.
 */
public final class V2Applier {

  private V2Applier() {}

  /** Applies one client write; returns its event or throws its v2 error (nothing changed). */
  public static V2Change apply(WriteTxn txn, V2Write w) throws V2Error {
    return switch (w.getMethod()) {
      case V2_POST -> internalCreate(txn, w.getPath(), w.getDir(), w.getValue(), true, false,
          w.getExpireAtUnixNanos(), V2Event.CREATE, w.getNowUnixNanos());
      case V2_PUT -> put(txn, w);
      case V2_DELETE -> (w.getPrevIndex() > 0 || !w.getPrevValue().isEmpty())
          ? compareAndDelete(txn, w)
          : delete(txn, w.getPath(), w.getDir(), w.getRecursive(), w.getNowUnixNanos());
      default -> throw V2Error.request(V2ErrorCode.INVALID_FIELD, "unknown method");
    };
  }

  private static V2Change put(WriteTxn txn, V2Write w) throws V2Error {
    long exp = w.getExpireAtUnixNanos();
    if (w.getHasPrevExist()) {
      if (w.getPrevExist()) {
        if (w.getPrevIndex() == 0 && w.getPrevValue().isEmpty()) {
          return update(txn, w.getPath(), w.getValue(), exp, w.getRefresh(), w.getNowUnixNanos());
        }
        return compareAndSwap(txn, w);
      }
      return internalCreate(txn, w.getPath(), w.getDir(), w.getValue(), false, false, exp,
          V2Event.CREATE, w.getNowUnixNanos());
    }
    if (w.getPrevIndex() > 0 || !w.getPrevValue().isEmpty()) {
      return compareAndSwap(txn, w);
    }
    return set(txn, w.getPath(), w.getDir(), w.getValue(), exp, w.getRefresh(), w.getNowUnixNanos());
  }

  private static V2Change set(WriteTxn txn, String path, boolean dir, String value, long exp,
      boolean refresh, long now) throws V2Error {
    KeyRecord prev = null;
    V2Error getErr = null;
    try {
      prev = V2Tree.lookup(txn::get, V2Path.clean(path), txn.revision());
    } catch (V2Error e) {
      if (e.code() != V2ErrorCode.KEY_NOT_FOUND) {
        throw e;
      }
      getErr = e;
    }
    if (refresh) {
      if (getErr != null) {
        throw getErr;
      }
      value = V2Tree.value(prev);
    }
    // the lookup above already read the node (or found it missing): no second read of it below
    V2Change c = internalCreate(txn, path, dir, value, false, true, exp, V2Event.SET, now, true, prev);
    if (refresh) {
      V2Event e = c.event();
      c = new V2Change(new V2Event(e.action(), e.node(), e.prevNode(), e.index(), e.etcdIndex(), true),
          c.removedPaths());
    }
    return c;
  }

  private static V2Change internalCreate(WriteTxn txn, String path, boolean dir, String value,
      boolean unique, boolean replace, long exp, String action, long now) throws V2Error {
    return internalCreate(txn, path, dir, value, unique, replace, exp, action, now, false, null);
  }

  /**
   * @param looked whether this command has already read the node at {@code path} (no write since),
   *     {@code known} being what it found (null: no such node); spares a store read per v2 set
   */
  private static V2Change internalCreate(WriteTxn txn, String path, boolean dir, String value,
      boolean unique, boolean replace, long exp, String action, long now, boolean looked, KeyRecord known)
      throws V2Error {
    long curr = txn.revision();
    long next = curr + 1;
    if (unique) {
      path = path + "/" + String.format("%020d", next);
    }
    String clean = V2Path.clean(path);
    if (clean.equals("/")) {
      throw new V2Error(V2ErrorCode.ROOT_READ_ONLY, "/", curr);
    }
    // walk the parents, creating missing directories (etcd's checkDir)
    List<KeyRecord> newDirs = new ArrayList<>();
    String parent = V2Path.parent(clean);
    if (!parent.equals("/")) {
      String at = "";
      for (String component : parent.substring(1).split("/")) {
        at = at + "/" + component;
        KeyRecord r = txn.get(V2Path.key(at));
        if (r == null) {
          newDirs.add(KeyRecord.newBuilder().setKey(ByteString.copyFrom(V2Path.key(at)))
              .setDir(true).setCreateRevision(next).setModRevision(next).setVersion(1).build());
        } else if (!r.getDir()) {
          throw new V2Error(V2ErrorCode.NOT_DIR, at, curr);
        }
      }
    }
    KeyRecord existing = !newDirs.isEmpty() ? null : looked ? known : txn.get(V2Path.key(clean));
    V2Node prevNode = null;
    if (existing != null) {
      if (!replace) {
        throw new V2Error(V2ErrorCode.NODE_EXIST, clean, curr);
      }
      if (existing.getDir()) {
        throw new V2Error(V2ErrorCode.NOT_FILE, clean, curr);
      }
      prevNode = V2Tree.repr(existing, now);
    }
    txn.nextRevision();
    for (KeyRecord d : newDirs) {
      txn.put(d, null);
    }
    if (existing != null && existing.getExpireAtUnixNanos() != 0) {
      txn.removeTtl(existing.getExpireAtUnixNanos(), existing.getKey().toByteArray());
    }
    KeyRecord.Builder rec = KeyRecord.newBuilder().setKey(ByteString.copyFrom(V2Path.key(clean)))
        .setCreateRevision(next).setModRevision(next).setVersion(1)
        .setExpireAtUnixNanos(exp);
    if (dir) {
      rec.setDir(true);
    } else {
      rec.setValue(V2Tree.valueBytes(value));
    }
    KeyRecord created = rec.build();
    txn.put(created, existing);
    if (exp != 0) {
      txn.addTtl(exp, created.getKey().toByteArray());
    }
    V2Node node = new V2Node(clean, dir ? null : value, dir, exp, V2Node.ttlAt(exp, now), next, next, null);
    return new V2Change(new V2Event(action, node, prevNode, next, next, false), List.of());
  }

  private static V2Change update(WriteTxn txn, String path, String value, long exp,
      boolean refresh, long now) throws V2Error {
    String clean = V2Path.clean(path);
    long curr = txn.revision();
    if (clean.equals("/")) {
      throw new V2Error(V2ErrorCode.ROOT_READ_ONLY, "/", curr);
    }
    KeyRecord n = V2Tree.lookup(txn::get, clean, curr);
    if (n.getDir() && !value.isEmpty()) {
      throw new V2Error(V2ErrorCode.NOT_FILE, clean, curr);
    }
    if (refresh) {
      value = V2Tree.value(n);
    }
    return rewrite(txn, n, clean, value, exp, V2Event.UPDATE, refresh, now);
  }

  /** The file a compare-and-swap/delete acts on, once its prevValue/prevIndex test passed. */
  private static KeyRecord comparedFile(WriteTxn txn, V2Write w, String clean) throws V2Error {
    long curr = txn.revision();
    if (clean.equals("/")) {
      throw new V2Error(V2ErrorCode.ROOT_READ_ONLY, "/", curr);
    }
    KeyRecord n = V2Tree.lookup(txn::get, clean, curr);
    if (n.getDir()) {
      throw new V2Error(V2ErrorCode.NOT_FILE, clean, curr);
    }
    compare(n, w.getPrevValue(), w.getPrevIndex(), curr);
    return n;
  }

  private static V2Change compareAndSwap(WriteTxn txn, V2Write w) throws V2Error {
    String clean = V2Path.clean(w.getPath());
    KeyRecord n = comparedFile(txn, w, clean);
    String value = w.getRefresh() ? V2Tree.value(n) : w.getValue();
    return rewrite(txn, n, clean, value, w.getExpireAtUnixNanos(), V2Event.COMPARE_AND_SWAP,
        w.getRefresh(), w.getNowUnixNanos());
  }

  /** Update and compare-and-swap: a new value and TTL on the same node (created index kept). */
  private static V2Change rewrite(WriteTxn txn, KeyRecord n, String clean, String value, long exp,
      String action, boolean refresh, long now) {
    long next = txn.nextRevision();
    V2Node prevNode = V2Tree.repr(n, now);
    byte[] key = n.getKey().toByteArray();
    if (n.getExpireAtUnixNanos() != 0) {
      txn.removeTtl(n.getExpireAtUnixNanos(), key);
    }
    // etcd's node.Write refuses directories: a dir's own modifiedIndex stays, although the
    // event reports the new index
    KeyRecord.Builder b = n.toBuilder().setModRevision(n.getDir() ? n.getModRevision() : next)
        .setVersion(n.getVersion() + 1).setExpireAtUnixNanos(exp);
    if (!n.getDir()) {
      b.setValue(V2Tree.valueBytes(value));
    }
    KeyRecord updated = b.build();
    txn.put(updated, n);
    if (exp != 0) {
      txn.addTtl(exp, key);
    }
    V2Node node = new V2Node(clean, n.getDir() ? null : value, n.getDir(), exp,
        V2Node.ttlAt(exp, now), next, n.getCreateRevision(), null);
    return new V2Change(new V2Event(action, node, prevNode, next, next, refresh), List.of());
  }

  private static void compare(KeyRecord n, String prevValue, long prevIndex, long curr)
      throws V2Error {
    String value = V2Tree.value(n);
    boolean indexMatch = prevIndex == 0 || n.getModRevision() == prevIndex;
    boolean valueMatch = prevValue.isEmpty() || value.equals(prevValue);
    if (indexMatch && valueMatch) {
      return;
    }
    String cause;
    if (indexMatch) {
      cause = "[" + prevValue + " != " + value + "]";
    } else if (valueMatch) {
      cause = "[" + prevIndex + " != " + n.getModRevision() + "]";
    } else {
      cause = "[" + prevValue + " != " + value + "] [" + prevIndex + " != " + n.getModRevision() + "]";
    }
    throw new V2Error(V2ErrorCode.TEST_FAILED, cause, curr);
  }

  private static V2Change delete(WriteTxn txn, String path, boolean dir, boolean recursive,
      long now) throws V2Error {
    String clean = V2Path.clean(path);
    long curr = txn.revision();
    if (clean.equals("/")) {
      throw new V2Error(V2ErrorCode.ROOT_READ_ONLY, "/", curr);
    }
    if (recursive) {
      dir = true;
    }
    KeyRecord n = V2Tree.lookup(txn::get, clean, curr);
    if (n.getDir()) {
      if (!dir) {
        throw new V2Error(V2ErrorCode.NOT_FILE, clean, curr);
      }
      if (!recursive && hasChildren(txn, clean)) {
        throw new V2Error(V2ErrorCode.DIR_NOT_EMPTY, clean, curr);
      }
    }
    long next = txn.nextRevision();
    List<String> removed = removeSubtree(txn, n, clean);
    V2Node node = new V2Node(clean, null, n.getDir(), 0, 0, next, n.getCreateRevision(), null);
    V2Event e = new V2Event(V2Event.DELETE, node, V2Tree.repr(n, now), next, next, false);
    return new V2Change(e, removed);
  }

  private static V2Change compareAndDelete(WriteTxn txn, V2Write w) throws V2Error {
    String clean = V2Path.clean(w.getPath());
    KeyRecord n = comparedFile(txn, w, clean);
    long next = txn.nextRevision();
    List<String> removed = removeSubtree(txn, n, clean);
    V2Node node = new V2Node(clean, null, false, 0, 0, next, n.getCreateRevision(), null);
    V2Event e = new V2Event(V2Event.COMPARE_AND_DELETE, node, V2Tree.repr(n, w.getNowUnixNanos()),
        next, next, false);
    return new V2Change(e, removed);
  }

  /** Removes every node whose expiry is at or before the command's instant, one event each. */
  public static List<V2Change> expire(WriteTxn txn, V2Expire x) {
    long now = x.getNowUnixNanos();
    List<V2Change> out = new ArrayList<>();
    for (byte[] key : txn.expiredKeys(now)) {
      KeyRecord n = txn.get(key);
      if (n == null || n.getExpireAtUnixNanos() == 0 || n.getExpireAtUnixNanos() > now) {
        continue; // removed with an expired parent earlier in this command
      }
      String clean = V2Tree.path(n);
      long next = txn.nextRevision();
      List<String> removed = removeSubtree(txn, n, clean);
      V2Node node = new V2Node(clean, null, n.getDir(), 0, 0, next, n.getCreateRevision(), null);
      out.add(new V2Change(new V2Event(V2Event.EXPIRE, node, V2Tree.repr(n, now), next, next, false),
          removed));
    }
    return out;
  }

  private static boolean hasChildren(WriteTxn txn, String clean) {
    boolean[] any = {false};
    txn.scan(V2Path.childPrefix(clean), r -> {
      any[0] = true;
      return false;
    });
    return any[0];
  }

  /** Deletes {@code n} and everything under it at the current revision; returns their paths. */
  private static List<String> removeSubtree(WriteTxn txn, KeyRecord n, String clean) {
    List<KeyRecord> doomed = new ArrayList<>();
    if (n.getDir()) {
      txn.scan(V2Path.childPrefix(clean), r -> {
        doomed.add(r);
        return true;
      });
    }
    doomed.add(n);
    List<String> paths = new ArrayList<>(doomed.size());
    for (KeyRecord r : doomed) {
      txn.delete(r);
      if (r.getExpireAtUnixNanos() != 0) {
        txn.removeTtl(r.getExpireAtUnixNanos(), r.getKey().toByteArray());
      }
      paths.add(V2Tree.path(r));
    }
    return paths;
  }
}
