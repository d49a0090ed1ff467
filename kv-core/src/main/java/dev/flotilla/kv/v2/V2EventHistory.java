package dev.flotilla.kv.v2;

import java.util.ArrayList;

/**
 * The last {@value #CAPACITY} v2 events, as etcd's EventHistory keeps them for waitIndex
 * watches. Not thread-safe: guarded by {@link V2WatcherHub}.
 */
public final class V2EventHistory {
  public static final int CAPACITY = 1000;

  private final ArrayList<V2Event> ring = new ArrayList<>();
  private int front; // position of the oldest event once the ring is full

  void clear() {
    ring.clear();
    front = 0;
  }

  void add(V2Event e) {
    if (ring.size() < CAPACITY) {
      ring.add(e);
    } else {
      ring.set(front, e);
      front = (front + 1) % CAPACITY;
    }
  }

  private V2Event at(int i) {
    return ring.get((front + i) % ring.size());
  }

  int size() {
    return ring.size();
  }

  long startIndex() {
    return ring.isEmpty() ? 0 : at(0).index();
  }

  long lastIndex() {
    return ring.isEmpty() ? 0 : at(ring.size() - 1).index();
  }

  /** The index of the newest event that adding {@code count} more would push out of the window; 0 if none. */
  long lastEvictedBy(int count) {
    int over = Math.min(ring.size() + count - CAPACITY, ring.size());
    return over <= 0 ? 0 : at(over - 1).index();
  }

  /**
   * The first event at or after {@code index} that a watcher of {@code key} would see, null to
   * wait for the future; 401 when {@code index} fell out of the window. Follows etcd's
   * EventHistory.scan, including its plain prefix match for deleted directories.
   */
  V2Event scan(String key, boolean recursive, long index, long storeIndex) throws V2Error {
    if (index < startIndex()) {
      throw new V2Error(V2ErrorCode.EVENT_INDEX_CLEARED,
          "the requested history has been cleared [" + startIndex() + "/" + index + "]", storeIndex);
    }
    if (index > lastIndex()) {
      return null;
    }
    int lo = 0;
    int hi = ring.size() - 1;
    while (lo < hi) { // first event with index >= index
      int mid = (lo + hi) >>> 1;
      if (at(mid).index() < index) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    String dirKey = key.endsWith("/") ? key : key + "/";
    for (int i = lo; i < ring.size(); i++) {
      V2Event e = at(i);
      if (e.refresh()) {
        continue;
      }
      String k = e.node().key();
      boolean ok = k.equals(key) || (recursive && k.startsWith(dirKey));
      if ((e.action().equals(V2Event.DELETE) || e.action().equals(V2Event.EXPIRE))
          && e.prevNode() != null && e.prevNode().dir()) {
        ok = ok || key.startsWith(e.prevNode().key());
      }
      if (ok) {
        return e;
      }
    }
    return null;
  }
}
