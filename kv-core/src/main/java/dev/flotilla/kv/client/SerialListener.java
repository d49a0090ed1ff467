package dev.flotilla.kv.client;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * Hands a {@link WatchListener} its calls one at a time, in arrival order, on the client's
 * delivery threads: the network or store thread that produced them only enqueues. Events at or
 * below the last delivered revision are dropped (a stream resumed after a reconnect may repeat
 * them), so the listener sees each revision once. Nothing is delivered after the first
 * terminal call or after {@link #close()}.
 */
final class SerialListener {
  private final WatchListener listener;
  private final Executor executor;
  private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
  private boolean draining;
  private boolean ended;
  private long lastRevision;

  SerialListener(WatchListener listener, Executor executor) {
    this.listener = listener;
    this.executor = executor;
  }

  void events(List<WatchEvent> events) {
    List<WatchEvent> fresh;
    synchronized (this) {
      if (ended) {
        return;
      }
      fresh = new ArrayList<>(events.size());
      long last = lastRevision;
      for (WatchEvent e : events) {
        if (e.revision() > last) {
          fresh.add(e);
          lastRevision = Math.max(lastRevision, e.revision());
        }
      }
      if (fresh.isEmpty()) {
        return;
      }
    }
    List<WatchEvent> batch = List.copyOf(fresh);
    submit(() -> listener.onEvents(batch), false);
  }

  void compacted(long compactRevision) {
    submit(() -> listener.onCompacted(compactRevision), true);
  }

  void error(StoreException e) {
    submit(() -> listener.onError(e), true);
  }

  /** Stops delivery: queued calls are dropped. */
  synchronized void close() {
    ended = true;
    queue.clear();
  }

  synchronized boolean isEnded() {
    return ended;
  }

  private void submit(Runnable call, boolean terminal) {
    synchronized (this) {
      if (ended) {
        return;
      }
      ended = terminal;
      queue.add(call);
      if (draining) {
        return;
      }
      draining = true;
    }
    try {
      executor.execute(this::drain);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // the client is closing: its watches end, nothing more is delivered
      close();
    }
  }

  private void drain() {
    while (true) {
      Runnable next;
      synchronized (this) {
        next = queue.poll();
        if (next == null) {
          draining = false;
          return;
        }
      }
      try {
        next.run();
      } catch (RuntimeException e) {
        // a listener's bug must not stop the watch's other deliveries
        org.slf4j.LoggerFactory.getLogger(SerialListener.class).warn("watch listener failed", e);
      }
    }
  }
}
