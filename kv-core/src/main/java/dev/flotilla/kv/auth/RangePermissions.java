package dev.flotilla.kv.auth;

import com.google.protobuf.ByteString;
import dev.flotilla.proto.etcd.authpb.Permission;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * One user's key permissions of one kind (read or write), merged from all its roles into disjoint
 * sorted intervals (etcd's unifiedRangePermissions): a request's range is permitted when the union
 * of the granted intervals covers it.
 */
final class RangePermissions {
  private final List<KeyInterval> merged;

  private RangePermissions(List<KeyInterval> merged) {
    this.merged = merged;
  }

  /** The intervals of {@code perms} that grant {@code write} (WRITE or READWRITE) or read (READ or READWRITE). */
  static RangePermissions of(List<Permission> perms, boolean write) {
    List<KeyInterval> ivs = new ArrayList<>();
    for (Permission p : perms) {
      boolean grants = p.getPermType() == Permission.Type.READWRITE
          || (write ? p.getPermType() == Permission.Type.WRITE : p.getPermType() == Permission.Type.READ);
      KeyInterval iv = KeyInterval.of(p.getKey(), p.getRangeEnd());
      if (grants && !iv.isEmpty()) {
        ivs.add(iv);
      }
    }
    ivs.sort(Comparator.comparing(KeyInterval::begin, ByteString.unsignedLexicographicalComparator()));
    List<KeyInterval> out = new ArrayList<>();
    for (KeyInterval iv : ivs) {
      if (!out.isEmpty()) {
        KeyInterval last = out.get(out.size() - 1);
        // overlapping or touching: [a,b) + [c,d) with c <= b is [a, max(b,d))
        if (last.end() == null || KeyInterval.compare(iv.begin(), last.end()) <= 0) {
          ByteString end = KeyInterval.compareEnds(last.end(), iv.end()) >= 0 ? last.end() : iv.end();
          out.set(out.size() - 1, new KeyInterval(last.begin(), end));
          continue;
        }
      }
      out.add(iv);
    }
    return new RangePermissions(List.copyOf(out));
  }

  /** Whether [key, rangeEnd) (etcd's request form: empty end = one key, "\0" = from key) is covered. */
  boolean covers(ByteString key, ByteString rangeEnd) {
    KeyInterval want = KeyInterval.of(key, rangeEnd);
    if (want.isEmpty()) {
      return false; // etcd: an empty request range is not permitted
    }
    for (KeyInterval iv : merged) {
      if (KeyInterval.compare(iv.begin(), want.begin()) > 0) {
        return false; // sorted: no later interval starts at or before the request
      }
      if (KeyInterval.compareEnds(iv.end(), want.begin()) > 0) {
        return KeyInterval.compareEnds(iv.end(), want.end()) >= 0;
      }
    }
    return false;
  }
}
