package dev.flotilla.kv.v2;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Watchers of v2 keys and the event history, behind one lock: the apply thread publishes
 * events here after they are committed; a watch request scans the history and, when nothing
 * matches yet, registers a watcher, atomically with respect to publishing. No thread waits:
 * a watcher is a callback.
 */
public final class V2WatcherHub {

  /** Receives the event a watcher waited for; called with the hub's lock held: hand off fast. */
  public interface Sink {
    void deliver(V2Event event);
  }

  /** A registered watcher; {@link #cancel()} when its client goes away. */
  public final class Watcher {
    private final String path;
    private final boolean recursive;
    private final boolean stream;
    private final long sinceIndex;
    private final Sink sink;
    private final long startIndex;
    private boolean removed;

    private Watcher(String path, boolean recursive, boolean stream, long sinceIndex, long startIndex, Sink sink) {
      this.path = path;
      this.recursive = recursive;
      this.stream = stream;
      this.sinceIndex = sinceIndex;
      this.startIndex = startIndex;
      this.sink = sink;
    }

    /** The store index when the watch began: etcd's X-Etcd-Index of a watch answer. */
    public long startIndex() {
      return startIndex;
    }

    public void cancel() {
      synchronized (V2WatcherHub.this) {
        if (!removed) {
          removed = true;
          List<Watcher> list = watchers.get(path);
          if (list != null) {
            list.remove(this);
            if (list.isEmpty()) {
              watchers.remove(path);
            }
          }
        }
      }
    }
  }

  private final V2EventHistory history = new V2EventHistory();
  private final Map<String, List<Watcher>> watchers = new HashMap<>();
  private long currentIndex;

  /** Restores the window (oldest first) and the current index after a restart. */
  public synchronized void restore(List<V2Event> events, long index) {
    history.clear();
    for (V2Event e : events) {
      history.add(e);
    }
    currentIndex = index;
  }

  /** The index of the newest event that {@code count} more would push out of the window; 0 if none. */
  public synchronized long lastEvictedBy(int count) {
    return history.lastEvictedBy(count);
  }

  public synchronized long currentIndex() {
    return currentIndex;
  }

  public synchronized int watcherCount() {
    int n = 0;
    for (List<Watcher> l : watchers.values()) {
      n += l.size();
    }
    return n;
  }

  /**
   * Starts a watch. When the history already holds a matching event it is delivered at once
   * and the watcher is not registered (as etcd does); otherwise it waits for one.
   */
  public synchronized Watcher watch(String path, boolean recursive, boolean stream, long waitIndex,
      Sink sink) throws V2Error {
    long since = waitIndex == 0 ? currentIndex + 1 : waitIndex;
    V2Event hit = history.scan(path, recursive, since, currentIndex);
    Watcher w = new Watcher(path, recursive, stream, since, currentIndex, sink);
    if (hit != null) {
      w.removed = true;
      sink.deliver(hit.withEtcdIndex(currentIndex));
      return w;
    }
    watchers.computeIfAbsent(path, k -> new ArrayList<>()).add(w);
    return w;
  }

  /** Publishes committed changes in order; {@code index} is the store index after them. */
  public synchronized void publish(List<V2Change> changes, long index) {
    for (V2Change c : changes) {
      V2Event e = c.event();
      history.add(e);
      if (e.refresh()) {
        continue; // refreshes are history only, as in etcd
      }
      for (String removed : c.removedPaths()) {
        notifyAt(e, removed, true);
      }
      String key = e.node().key();
      notifyAt(e, "/", false);
      int i = 0;
      while ((i = key.indexOf('/', i + 1)) > 0) {
        notifyAt(e, key.substring(0, i), false);
      }
      if (!key.equals("/")) {
        notifyAt(e, key, false);
      }
    }
    currentIndex = Math.max(currentIndex, index);
  }

  /** Moves the current index for revisions that made no v2 event. */
  public synchronized void advance(long index) {
    currentIndex = Math.max(currentIndex, index);
  }

  private void notifyAt(V2Event e, String nodePath, boolean deleted) {
    List<Watcher> list = watchers.get(nodePath);
    if (list == null) {
      return;
    }
    String key = e.node().key();
    boolean originalPath = key.equals(nodePath);
    if (!originalPath && isHidden(nodePath, key)) {
      return;
    }
    for (Iterator<Watcher> it = list.iterator(); it.hasNext(); ) {
      Watcher w = it.next();
      if ((w.recursive || originalPath || deleted) && e.index() >= w.sinceIndex) {
        w.sink.deliver(e.withEtcdIndex(e.index()));
        if (!w.stream) {
          w.removed = true;
          it.remove();
        }
      }
    }
    if (list.isEmpty()) {
      watchers.remove(nodePath);
    }
  }

  /** etcd's isHidden: the key lies under a hidden element below the watched path. */
  static boolean isHidden(String watchPath, String keyPath) {
    if (watchPath.length() > keyPath.length()) {
      return false;
    }
    String after = V2Path.clean("/" + keyPath.substring(watchPath.length()));
    return after.contains("/_");
  }
}
