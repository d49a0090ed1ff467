package dev.flotilla.kv.v2;

import dev.flotilla.kv.mvcc.ReadView;
import dev.flotilla.proto.store.KeyRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** v2 reads over a consistent view of the MVCC store (etcd's store.Get). */
public final class V2Reader {

  private V2Reader() {}

  /**
   * GET of a path: a file with its value, or a directory with its visible children (one level,
   * or the whole subtree with {@code recursive}). Children come in key order, which satisfies
   * {@code sorted=true} and is one of the orders etcd may return without it.
   */
  public static V2Event get(ReadView view, String path, boolean recursive, long nowNanos)
      throws V2Error {
    String clean = V2Path.clean(path);
    KeyRecord n = V2Tree.lookup(view::get, clean, view.revision());
    V2Node node;
    if (n.getDir()) {
      List<V2Node> children = recursive ? subtree(view, clean, nowNanos) : children(view, clean, nowNanos);
      long exp = n.getExpireAtUnixNanos();
      node = new V2Node(clean, null, true, exp, V2Node.ttlAt(exp, nowNanos), n.getModRevision(),
          n.getCreateRevision(), children);
    } else {
      node = V2Tree.repr(n, nowNanos);
    }
    return new V2Event(V2Event.GET, node, null, n.getModRevision(), view.revision(), false);
  }

  private static List<V2Node> children(ReadView view, String dir, long now) {
    List<V2Node> out = new ArrayList<>();
    for (KeyRecord r : view.children(V2Path.childPrefix(dir))) {
      String p = V2Tree.path(r);
      if (!V2Path.isHiddenName(p)) {
        out.add(V2Tree.repr(r, now));
      }
    }
    return out;
  }

  /** The whole visible subtree under {@code dir}; hidden nodes hide their subtrees too. */
  private static List<V2Node> subtree(ReadView view, String dir, long now) {
    final class Building {
      final KeyRecord rec;
      final List<Building> kids = new ArrayList<>();

      Building(KeyRecord rec) {
        this.rec = rec;
      }

      V2Node build() {
        V2Node base = V2Tree.repr(rec, now);
        if (!rec.getDir()) {
          return base;
        }
        List<V2Node> nodes = new ArrayList<>(kids.size());
        for (Building k : kids) {
          nodes.add(k.build());
        }
        return new V2Node(base.key(), null, true, base.expireAtNanos(), base.ttl(),
            base.modifiedIndex(), base.createdIndex(), nodes);
      }
    }
    List<Building> top = new ArrayList<>();
    Map<String, Building> dirs = new HashMap<>();
    view.scan(V2Path.childPrefix(dir), r -> {
      String p = V2Tree.path(r);
      if (V2Path.isHiddenName(p)) {
        return true;
      }
      String parent = V2Path.parent(p);
      Building b = new Building(r);
      if (parent.equals(dir)) {
        top.add(b);
      } else {
        Building pb = dirs.get(parent);
        if (pb == null) {
          return true; // under a hidden directory
        }
        pb.kids.add(b);
      }
      if (r.getDir()) {
        dirs.put(p, b);
      }
      return true;
    });
    List<V2Node> out = new ArrayList<>(top.size());
    for (Building b : top) {
      out.add(b.build());
    }
    return out;
  }
}
