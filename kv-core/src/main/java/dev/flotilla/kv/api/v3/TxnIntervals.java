package dev.flotilla.kv.api.v3;

import com.google.protobuf.ByteString;
import dev.flotilla.proto.etcd.etcdserverpb.RequestOp;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * etcd's checkIntervals: a txn may not put a key twice, nor put a key that one of its deletes
 * covers, at any nesting depth (except the same key in a nested txn's then and else, which never
 * both run). Keys compare as Go strings; a range end of "" is +infinity, so a delete with the
 * from-key end "\0" covers nothing here, exactly as in etcd.
 */
final class TxnIntervals {
  private static final Comparator<ByteString> BYTES = ByteString.unsignedLexicographicalComparator();

  /** A txn that etcd rejects with "duplicate key given in txn request". */
  static final class Overlap extends Exception {
    Overlap() {
      super(V3Status.DUPLICATE_KEY, null, false, false);
    }
  }

  /** [begin, end); an empty end is +infinity. */
  private record Interval(ByteString begin, ByteString end) {
    static Interval point(ByteString k) {
      return new Interval(k, k.concat(ByteString.copyFrom(new byte[] {0})));
    }

    boolean intersects(Interval o) {
      return compare(begin, o.end) < 0 && compare(o.begin, end) < 0;
    }

    private static int compare(ByteString a, ByteString b) {
      if (a.isEmpty()) {
        return b.isEmpty() ? 0 : 1;
      }
      if (b.isEmpty()) {
        return -1;
      }
      return Integer.signum(BYTES.compare(a, b));
    }
  }

  private record Result(Set<ByteString> puts, List<Interval> dels) {}

  private TxnIntervals() {
  }

  static void check(List<RequestOp> ops) throws Overlap {
    collect(ops);
  }

  private static Result collect(List<RequestOp> ops) throws Overlap {
    List<Interval> dels = new ArrayList<>();
    for (RequestOp op : ops) {
      if (op.hasRequestDeleteRange()) {
        var d = op.getRequestDeleteRange();
        dels.add(d.getRangeEnd().isEmpty() ? Interval.point(d.getKey()) : new Interval(d.getKey(), d.getRangeEnd()));
      }
    }
    Set<ByteString> puts = new HashSet<>();
    for (RequestOp op : ops) {
      if (!op.hasRequestTxn()) {
        continue;
      }
      Result then = collect(op.getRequestTxn().getSuccessList());
      Result otherwise = collect(op.getRequestTxn().getFailureList());
      for (ByteString k : then.puts()) {
        if (puts.contains(k) || covered(dels, k)) {
          throw new Overlap();
        }
        puts.add(k);
      }
      for (ByteString k : otherwise.puts()) {
        if (puts.contains(k) && !then.puts().contains(k) || covered(dels, k)) {
          throw new Overlap();
        }
        puts.add(k);
      }
      dels.addAll(then.dels());
      dels.addAll(otherwise.dels());
    }
    for (RequestOp op : ops) {
      if (op.hasRequestPut()) {
        ByteString k = op.getRequestPut().getKey();
        if (puts.contains(k) || covered(dels, k)) {
          throw new Overlap();
        }
        puts.add(k);
      }
    }
    return new Result(puts, dels);
  }

  private static boolean covered(List<Interval> dels, ByteString key) {
    Interval p = Interval.point(key);
    for (Interval d : dels) {
      if (d.intersects(p)) {
        return true;
      }
    }
    return false;
  }
}
