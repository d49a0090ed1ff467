package dev.flotilla.kv.v3;

import com.google.protobuf.ByteString;
import dev.flotilla.kv.mvcc.MvccStore;
import dev.flotilla.kv.mvcc.ReadView;
import dev.flotilla.proto.etcd.mvccpb.Event;
import dev.flotilla.proto.etcd.mvccpb.KeyValue;
import dev.flotilla.proto.store.ChangeRecord;
import dev.flotilla.proto.store.KeyRecord;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * v3 watchers. A watcher starting at a past revision first catches up from the store's
 * history (on the catch-up thread, from a snapshot) while live events for it are buffered;
 * then it is fed by {@link #publish} from the apply thread. Events reach a watcher in
 * revision order, each once.
 */
public final class V3WatchHub implements AutoCloseable {

  /** Receives a watcher's events; called with the hub's lock held (or from catch-up): be quick. */
  public interface Sink {
    void events(List<Event> events, long revision);

    /** The start revision was compacted: the watcher is canceled. */
    void compacted(long compactRevision);
  }

  /** One watcher; {@link #cancel()} it when its client goes away. */
  public final class Watcher {
    private final byte[] from;
    private final byte[] to; // exclusive; null = single key handled by from/to
    private final boolean noPut;
    private final boolean noDelete;
    private final boolean prevKv;
    private final Sink sink;
    private boolean synced;
    private List<Event> buffer = new ArrayList<>();
    private long bufferRev;
    private long minRev;
    private boolean canceled;

    private Watcher(byte[] from, byte[] to, boolean noPut, boolean noDelete, boolean prevKv, Sink sink) {
      this.from = from;
      this.to = to;
      this.noPut = noPut;
      this.noDelete = noDelete;
      this.prevKv = prevKv;
      this.sink = sink;
    }

    public void cancel() {
      synchronized (V3WatchHub.this) {
        canceled = true;
        watchers.remove(this);
      }
    }

    boolean matches(byte[] key) {
      return Arrays.compareUnsigned(key, from) >= 0 && (to == null || Arrays.compareUnsigned(key, to) < 0);
    }

    Event toEvent(ChangeRecord c) {
      return toEvent(c, 0);
    }

    /**
     * The event of a change; its prev_kv only while the revision before it is not compacted
     * (etcd reads prev_kv at modRevision - 1 when it sends, and finds nothing there then).
     */
    Event toEvent(ChangeRecord c, long compactRev) {
      Event.Builder e = Event.newBuilder();
      if (c.getType() == ChangeRecord.Type.PUT) {
        e.setType(Event.EventType.PUT).setKv(V3Kv.toKeyValue(c.getKv()));
      } else {
        e.setType(Event.EventType.DELETE).setKv(KeyValue.newBuilder()
            .setKey(c.getKv().getKey().substring(1)).setModRevision(c.getKv().getModRevision()));
      }
      if (prevKv && c.hasPrevKv() && c.getKv().getModRevision() - 1 >= compactRev) {
        e.setPrevKv(V3Kv.toKeyValue(c.getPrevKv()));
      }
      return e.build();
    }

    boolean wants(ChangeRecord c) {
      byte[] key = c.getKv().getKey().toByteArray();
      if (key.length == 0 || key[0] != V3Kv.KEYSPACE || !matches(key)) {
        return false;
      }
      return c.getType() == ChangeRecord.Type.PUT ? !noPut : !noDelete;
    }
  }

  /**
   * Distinct revisions in one catch-up response (etcd's watchBatchMaxRevs). Catch-up responses
   * carry the revision the catch-up read up to in their header, as etcd's syncWatchers sends
   * its current revision.
   */
  static final int MAX_BATCH_REVISIONS = 1000;

  private final MvccStore store;
  private final List<Watcher> watchers = new ArrayList<>();
  private final ExecutorService catchUp = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "v3-watch-catchup");
    t.setDaemon(true);
    return t;
  });
  private long currentRevision;

  public V3WatchHub(MvccStore store) {
    this.store = store;
    this.currentRevision = store.revision();
  }

  /**
   * Starts a watcher over etcd's (key, range_end) from {@code startRevision} (0: from now).
   * {@code registered} runs under the hub's lock before any event can reach the watcher,
   * so a "created" answer always comes first. Returns null when the start was compacted
   * (the sink was told).
   */
  public synchronized Watcher watch(ByteString key, ByteString rangeEnd, long startRevision,
      boolean noPut, boolean noDelete, boolean prevKv, Sink sink, Runnable registered) {
    byte[][] b = V3Kv.bounds(key, rangeEnd);
    Watcher w = new Watcher(b[0], b[1], noPut, noDelete, prevKv, sink);
    registered.run();
    long compact = store.compactRevision();
    if (startRevision > 0 && startRevision < compact) {
      sink.compacted(compact);
      return null;
    }
    watchers.add(w);
    long current = currentRevision;
    if (startRevision <= 0 || startRevision > current) {
      w.synced = true;
      w.minRev = Math.max(startRevision, current + 1);
      return w;
    }
    w.minRev = startRevision;
    catchUp.execute(() -> catchUp(w, startRevision, current));
    return w;
  }

  private void catchUp(Watcher w, long fromRev, long toRev) {
    List<Event> batch = new ArrayList<>();
    long[] lastRev = {0};
    int[] revs = {0};
    boolean compacted;
    try (ReadView view = store.snapshot()) {
      long compactRev = store.compactRevision();
      compacted = fromRev < compactRev;
      if (!compacted) {
        // prev_kv read only for the changes this watcher gets with one (see toEvent)
        view.changes(fromRev, toRev,
            c -> w.prevKv && c.getKv().getModRevision() - 1 >= compactRev && w.wants(c), c -> {
          // etcd's compaction at X keeps, of each key, its version at X, but not a delete at X:
          // a watch from X finds no such delete in etcd's backend
          boolean goneDelete = c.getType() == ChangeRecord.Type.DELETE && c.getKv().getModRevision() <= compactRev;
          if (!goneDelete && w.wants(c)) {
            long rev = c.getKv().getModRevision();
            if (rev != lastRev[0]) {
              if (revs[0] == MAX_BATCH_REVISIONS) {
                deliver(w, new ArrayList<>(batch), toRev);
                batch.clear();
                revs[0] = 0;
              }
              revs[0]++;
            }
            batch.add(w.toEvent(c, compactRev));
            lastRev[0] = rev;
          }
          return true;
        });
      }
    }
    synchronized (this) {
      if (w.canceled) {
        return;
      }
      if (compacted) {
        watchers.remove(w);
        w.sink.compacted(store.compactRevision());
        return;
      }
      if (!batch.isEmpty()) {
        w.sink.events(batch, toRev);
      }
      if (!w.buffer.isEmpty()) {
        w.sink.events(w.buffer, w.bufferRev);
      }
      w.buffer = null;
      w.synced = true;
    }
  }

  private synchronized void deliver(Watcher w, List<Event> events, long rev) {
    if (!w.canceled) {
      w.sink.events(events, rev);
    }
  }

  /** Called by the apply thread after a command committed, with its changes. */
  public synchronized void publish(List<ChangeRecord> changes, long revision) {
    currentRevision = Math.max(currentRevision, revision);
    if (changes.isEmpty() || watchers.isEmpty()) {
      return;
    }
    DeletedVersions deleted = new DeletedVersions(changes);
    try {
      for (Watcher w : watchers) {
        List<Event> events = null;
        for (int i = 0; i < changes.size(); i++) {
          ChangeRecord c = changes.get(i);
          if (c.getKv().getModRevision() >= w.minRev && w.wants(c)) {
            if (events == null) {
              events = new ArrayList<>();
            }
            events.add(w.toEvent(w.prevKv ? deleted.withPrevKv(i) : c));
          }
        }
        publish(w, events, revision);
      }
    } finally {
      deleted.close();
    }
  }

  /**
   * The previous versions of the deletions a big DeleteRange listed with {@code prev_in_revs}
   * instead of holding them ({@code WriteTxn.deleteAll}), read from the store on first need (the
   * apply thread publishes right after its commit, before any other write), once for all
   * watchers. A compaction in the same group may have taken one: then the event goes without
   * it, as etcd's, which reads prev_kv at modRevision - 1 when it sends an event.
   */
  private final class DeletedVersions implements AutoCloseable {
    private final List<ChangeRecord> changes;
    private ChangeRecord[] filled;
    private ReadView view;

    DeletedVersions(List<ChangeRecord> changes) {
      this.changes = changes;
    }

    ChangeRecord withPrevKv(int i) {
      ChangeRecord c = changes.get(i);
      if (!c.getPrevInRevs() || c.hasPrevKv()) {
        return c;
      }
      if (view == null) {
        view = store.snapshot();
        filled = new ChangeRecord[changes.size()];
      }
      if (filled[i] == null) {
        KeyRecord prev = view.deletedVersion(c.getKv().getKey().toByteArray(), c.getKv().getModRevision());
        ChangeRecord.Builder b = c.toBuilder().clearPrevInRevs();
        filled[i] = (prev == null ? b : b.setPrevKv(prev)).build();
      }
      return filled[i];
    }

    @Override
    public void close() {
      if (view != null) {
        view.close();
      }
    }
  }

  private static void publish(Watcher w, List<Event> events, long revision) {
    if (events != null) {
      if (w.synced) {
        w.sink.events(events, revision);
      } else {
        w.buffer.addAll(events);
        w.bufferRev = revision;
      }
    }
  }

  /**
   * A progress notification for {@code w}: when it has caught up (every event up to the current
   * revision went to its sink, under this lock), {@code send} gets that revision and true comes back.
   */
  public synchronized boolean progress(Watcher w, java.util.function.LongConsumer send) {
    if (w.canceled || !w.synced) {
      return false;
    }
    send.accept(currentRevision);
    return true;
  }

  public synchronized long currentRevision() {
    return currentRevision;
  }

  public synchronized int size() {
    return watchers.size();
  }

  @Override
  public void close() {
    catchUp.shutdownNow();
  }
}
