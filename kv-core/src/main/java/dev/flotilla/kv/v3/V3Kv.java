package dev.flotilla.kv.v3;

import com.google.protobuf.ByteString;
import dev.flotilla.kv.mvcc.KvView;
import dev.flotilla.kv.mvcc.WriteTxn;
import dev.flotilla.proto.etcd.etcdserverpb.Compare;
import dev.flotilla.proto.etcd.etcdserverpb.DeleteRangeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.DeleteRangeResponse;
import dev.flotilla.proto.etcd.etcdserverpb.PutRequest;
import dev.flotilla.proto.etcd.etcdserverpb.PutResponse;
import dev.flotilla.proto.etcd.etcdserverpb.RangeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.RangeResponse;
import dev.flotilla.proto.etcd.etcdserverpb.RequestOp;
import dev.flotilla.proto.etcd.etcdserverpb.ResponseHeader;
import dev.flotilla.proto.etcd.etcdserverpb.ResponseOp;
import dev.flotilla.proto.etcd.etcdserverpb.TxnRequest;
import dev.flotilla.proto.etcd.etcdserverpb.TxnResponse;
import dev.flotilla.proto.etcd.mvccpb.KeyValue;
import dev.flotilla.proto.store.KeyRecord;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The etcd v3 key-value operations over the MVCC store, with etcd 3.4's semantics (its
 * applierV3backend): Range, Put, DeleteRange, Txn. v3 keys live under their own prefix in
 * the store, apart from the v2 keyspace. Writes of one command share one revision.
 */
public final class V3Kv {
  /** Internal key prefix of the v3 keyspace (v2 uses 0x02). */
  public static final byte KEYSPACE = 0x03;

  private V3Kv() {}

  static byte[] internal(ByteString key) {
    byte[] k = new byte[key.size() + 1];
    k[0] = KEYSPACE;
    key.copyTo(k, 1);
    return k;
  }

  /** [from, to) in internal keys for etcd's (key, range_end); to == null: unbounded. */
  static byte[][] bounds(ByteString key, ByteString rangeEnd) {
    byte[] from = internal(key);
    if (rangeEnd.isEmpty()) {
      byte[] to = java.util.Arrays.copyOf(from, from.length + 1); // just the key itself
      return new byte[][] {from, to};
    }
    if (rangeEnd.size() == 1 && rangeEnd.byteAt(0) == 0) {
      return new byte[][] {from, new byte[] {KEYSPACE + 1}}; // every key >= key
    }
    return new byte[][] {from, internal(rangeEnd)};
  }

  public static KeyValue toKeyValue(KeyRecord r) {
    return KeyValue.newBuilder()
        .setKey(r.getKey().substring(1))
        .setCreateRevision(r.getCreateRevision())
        .setModRevision(r.getModRevision())
        .setVersion(r.getVersion())
        .setValue(r.getValue())
        .setLease(r.getLease())
        .build();
  }

  /** The kvs of a range at {@code rev} (0: newest), all of them, in key order. */
  static List<KeyValue> rangeKvs(KvView view, ByteString key, ByteString rangeEnd, long rev,
      long compactRev) throws V3Error {
    long current = view.revision();
    if (rev > current) {
      throw V3Error.futureRevision();
    }
    if (rev > 0 && rev < compactRev) {
      throw V3Error.compacted();
    }
    List<KeyValue> out = new ArrayList<>();
    if (rangeEnd.isEmpty() && (rev <= 0 || rev == current)) {
      // one key, as it is now: a point read, not an iterator (a txn's compares are mostly these)
      KeyRecord r = view.get(internal(key));
      if (r != null) {
        out.add(toKeyValue(r));
      }
      return out;
    }
    byte[][] b = bounds(key, rangeEnd);
    if (rev <= 0 || rev == current) {
      view.range(b[0], b[1], r -> out.add(toKeyValue(r)));
    } else {
      view.rangeAt(b[0], b[1], rev, r -> out.add(toKeyValue(r)));
    }
    return out;
  }

  public static RangeResponse range(KvView view, RangeRequest r, long compactRev) throws V3Error {
    List<KeyValue> kvs = rangeKvs(view, r.getKey(), r.getRangeEnd(), r.getRevision(), compactRev);
    long count = kvs.size();
    kvs.removeIf(kv -> (r.getMaxModRevision() != 0 && kv.getModRevision() > r.getMaxModRevision())
        || (r.getMinModRevision() != 0 && kv.getModRevision() < r.getMinModRevision())
        || (r.getMaxCreateRevision() != 0 && kv.getCreateRevision() > r.getMaxCreateRevision())
        || (r.getMinCreateRevision() != 0 && kv.getCreateRevision() < r.getMinCreateRevision()));
    RangeRequest.SortOrder order = r.getSortOrder();
    if (r.getSortTarget() != RangeRequest.SortTarget.KEY && order == RangeRequest.SortOrder.NONE) {
      order = RangeRequest.SortOrder.ASCEND;
    }
    if (order != RangeRequest.SortOrder.NONE) {
      Comparator<KeyValue> c = switch (r.getSortTarget()) {
        case VERSION -> Comparator.comparingLong(KeyValue::getVersion);
        case CREATE -> Comparator.comparingLong(KeyValue::getCreateRevision);
        case MOD -> Comparator.comparingLong(KeyValue::getModRevision);
        case VALUE -> (x, y) -> ByteString.unsignedLexicographicalComparator().compare(x.getValue(), y.getValue());
        default -> (x, y) -> ByteString.unsignedLexicographicalComparator().compare(x.getKey(), y.getKey());
      };
      kvs.sort(order == RangeRequest.SortOrder.DESCEND ? c.reversed() : c);
    }
    RangeResponse.Builder resp = RangeResponse.newBuilder()
        .setHeader(ResponseHeader.newBuilder().setRevision(view.revision()))
        .setCount(count);
    if (r.getLimit() > 0 && kvs.size() > r.getLimit()) {
      kvs = kvs.subList(0, (int) r.getLimit());
      resp.setMore(true);
    }
    if (!r.getCountOnly()) {
      for (KeyValue kv : kvs) {
        resp.addKvs(r.getKeysOnly() ? kv.toBuilder().clearValue().build() : kv);
      }
    }
    return resp.build();
  }

  public static PutResponse put(WriteTxn txn, PutRequest r) throws V3Error {
    byte[] key = internal(r.getKey());
    KeyRecord prev = txn.get(key);
    if ((r.getIgnoreValue() || r.getIgnoreLease()) && prev == null) {
      throw V3Error.keyNotFound();
    }
    if (r.getLease() != 0 && !r.getIgnoreLease() && txn.getLease(r.getLease()) == null) {
      throw V3Error.leaseNotFound();
    }
    long rev = txn.writeRevision();
    KeyRecord rec = KeyRecord.newBuilder()
        .setKey(ByteString.copyFrom(key))
        .setCreateRevision(prev == null ? rev : prev.getCreateRevision())
        .setModRevision(rev)
        .setVersion(prev == null ? 1 : prev.getVersion() + 1)
        .setValue(r.getIgnoreValue() ? prev.getValue() : r.getValue())
        .setLease(r.getIgnoreLease() ? prev.getLease() : r.getLease())
        .build();
    txn.put(rec, prev);
    if (prev != null && prev.getLease() != 0 && prev.getLease() != rec.getLease()) {
      txn.detach(prev.getLease(), key);
    }
    if (rec.getLease() != 0) {
      txn.attach(rec.getLease(), key);
    }
    PutResponse.Builder resp = PutResponse.newBuilder();
    if (r.getPrevKv() && prev != null) {
      resp.setPrevKv(toKeyValue(prev));
    }
    return resp.setHeader(ResponseHeader.newBuilder().setRevision(txn.revision())).build();
  }

  public static DeleteRangeResponse deleteRange(WriteTxn txn, DeleteRangeRequest r) {
    byte[][] b = bounds(r.getKey(), r.getRangeEnd());
    List<KeyRecord> doomed = new ArrayList<>();
    if (r.getRangeEnd().isEmpty()) {
      KeyRecord one = txn.get(b[0]); // one key: a point read, not an iterator
      if (one != null) {
        doomed.add(one);
      }
    } else {
      doomed = txn.deletable(b[0], b[1], r.getPrevKv());
    }
    DeleteRangeResponse.Builder resp = DeleteRangeResponse.newBuilder().setDeleted(doomed.size());
    if (!doomed.isEmpty()) {
      txn.writeRevision();
      txn.deleteAll(b[0], b[1], doomed);
      for (KeyRecord k : doomed) {
        if (k.getLease() != 0) {
          txn.detach(k.getLease(), k.getKey().toByteArray());
        }
        if (r.getPrevKv()) {
          resp.addPrevKvs(toKeyValue(k));
        }
      }
    }
    return resp.setHeader(ResponseHeader.newBuilder().setRevision(txn.revision())).build();
  }

  /**
   * etcd's Txn: every compare, nested txns' too, is decided on the state before the txn (etcd's
   * compareToPath), then the chosen ops run in order. Each inner response's header carries the
   * revision as that op saw it (a range or a delete that changed nothing before any write: the
   * old revision); a nested txn's header is empty, as etcd leaves it; the outer header has the
   * revision after the txn.
   */
  public static TxnResponse txn(WriteTxn txn, TxnRequest r, long compactRev) throws V3Error {
    java.util.ArrayDeque<Boolean> path = new java.util.ArrayDeque<>();
    comparePath(txn, r, compactRev, path);
    TxnResponse resp = applyTxn(txn, r, compactRev, path);
    return resp.toBuilder().setHeader(ResponseHeader.newBuilder().setRevision(txn.revision())).build();
  }

  private static void comparePath(KvView view, TxnRequest r, long compactRev, java.util.Deque<Boolean> path)
      throws V3Error {
    boolean ok = true;
    for (Compare c : r.getCompareList()) {
      if (!compare(view, c, compactRev)) {
        ok = false;
        break;
      }
    }
    path.addLast(ok);
    for (RequestOp op : ok ? r.getSuccessList() : r.getFailureList()) {
      if (op.hasRequestTxn()) {
        comparePath(view, op.getRequestTxn(), compactRev, path);
      }
    }
  }

  /**
   * A {@link #readOnly} txn on a reader's view, as etcd serves one without a log entry: the same
   * compares and ranges as {@link #txn}, the header at the view's revision.
   */
  public static TxnResponse readTxn(KvView view, TxnRequest r, long compactRev) throws V3Error {
    java.util.ArrayDeque<Boolean> path = new java.util.ArrayDeque<>();
    comparePath(view, r, compactRev, path);
    TxnResponse resp = applyTxn(view, r, compactRev, path);
    return resp.toBuilder().setHeader(ResponseHeader.newBuilder().setRevision(view.revision())).build();
  }

  /** etcd's isTxnReadonly: no put or delete in any branch, nested txns included. */
  public static boolean readOnly(TxnRequest t) {
    for (var list : List.of(t.getSuccessList(), t.getFailureList())) {
      for (var op : list) {
        boolean ro = switch (op.getRequestCase()) {
          case REQUEST_RANGE -> true;
          case REQUEST_TXN -> readOnly(op.getRequestTxn());
          default -> false;
        };
        if (!ro) {
          return false;
        }
      }
    }
    return true;
  }

  /** etcd's isTxnSerializable: every range in every branch asks for a serializable read. */
  public static boolean serializable(TxnRequest t) {
    for (var list : List.of(t.getSuccessList(), t.getFailureList())) {
      for (var op : list) {
        boolean s = switch (op.getRequestCase()) {
          case REQUEST_RANGE -> op.getRequestRange().getSerializable();
          case REQUEST_TXN -> serializable(op.getRequestTxn());
          default -> false;
        };
        if (!s) {
          return false;
        }
      }
    }
    return true;
  }

  /** {@code view} is a {@link WriteTxn} whenever the txn has writes (only read-only ones get a reader's view). */
  private static TxnResponse applyTxn(KvView view, TxnRequest r, long compactRev, java.util.Deque<Boolean> path)
      throws V3Error {
    boolean ok = path.removeFirst();
    TxnResponse.Builder resp = TxnResponse.newBuilder().setSucceeded(ok)
        .setHeader(ResponseHeader.getDefaultInstance());
    for (RequestOp op : ok ? r.getSuccessList() : r.getFailureList()) {
      resp.addResponses(switch (op.getRequestCase()) {
        case REQUEST_RANGE -> ResponseOp.newBuilder().setResponseRange(range(view, op.getRequestRange(), compactRev)).build();
        case REQUEST_PUT -> ResponseOp.newBuilder().setResponsePut(put((WriteTxn) view, op.getRequestPut())).build();
        case REQUEST_DELETE_RANGE -> ResponseOp.newBuilder()
            .setResponseDeleteRange(deleteRange((WriteTxn) view, op.getRequestDeleteRange())).build();
        case REQUEST_TXN -> ResponseOp.newBuilder().setResponseTxn(applyTxn(view, op.getRequestTxn(), compactRev, path)).build();
        default -> throw new V3Error(V3Error.Code.INVALID_ARGUMENT, "etcdserver: empty request op in txn");
      });
    }
    return resp.build();
  }

  /** etcd's applyCompare: every key in the range must satisfy the comparison. */
  static boolean compare(KvView view, Compare c, long compactRev) throws V3Error {
    List<KeyValue> kvs = rangeKvs(view, c.getKey(), c.getRangeEnd(), 0, compactRev);
    if (kvs.isEmpty()) {
      if (c.getTarget() == Compare.CompareTarget.VALUE) {
        return false; // no value to compare with on a missing key
      }
      return compareKv(c, KeyValue.getDefaultInstance());
    }
    for (KeyValue kv : kvs) {
      if (!compareKv(c, kv)) {
        return false;
      }
    }
    return true;
  }

  private static boolean compareKv(Compare c, KeyValue kv) {
    int result = switch (c.getTarget()) {
      case VALUE -> Integer.signum(ByteString.unsignedLexicographicalComparator().compare(kv.getValue(), c.getValue()));
      case CREATE -> Long.compare(kv.getCreateRevision(), c.getCreateRevision());
      case MOD -> Long.compare(kv.getModRevision(), c.getModRevision());
      case VERSION -> Long.compare(kv.getVersion(), c.getVersion());
      case LEASE -> Long.compare(kv.getLease(), c.getLease());
      default -> 0;
    };
    return switch (c.getResult()) {
      case EQUAL -> result == 0;
      case NOT_EQUAL -> result != 0;
      case GREATER -> result > 0;
      case LESS -> result < 0;
      default -> true;
    };
  }
}
