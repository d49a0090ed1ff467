package dev.flotilla.scheduler.registry.store;

import dev.flotilla.kv.client.KeyRange;
import dev.flotilla.kv.client.StoreClient;
import dev.flotilla.kv.client.StoreException;
import dev.flotilla.kv.client.WatchEvent;
import dev.flotilla.kv.client.WatchHandle;
import dev.flotilla.kv.client.WatchListener;
import dev.flotilla.scheduler.registry.RegistryEvent;
import dev.flotilla.scheduler.registry.RegistryWatch;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * A {@link RegistryWatch} over one or more store watches (one per key range, all from the same
 * revision; events of one range come in revision order, those of different ranges in the order
 * they arrive): the client's thread turns store events into
 * registry events and queues them; the engine's (or agent's) loop takes them with
 * {@link #poll}. A compaction past the watch, or the watch ending otherwise, breaks it. Each
 * time events are queued or the watch breaks, {@code onEvents} runs (on the client's thread): the
 * loop's thread is woken by it rather than polling the queue.
 */
final class StoreRegistryWatch implements RegistryWatch, WatchListener {
  private final Function<WatchEvent, Optional<RegistryEvent>> translate;
  private final Runnable onEvents;
  private final ArrayDeque<RegistryEvent> events = new ArrayDeque<>();
  private final List<WatchHandle> handles = new ArrayList<>();
  private boolean broken;
  private StoreException error;
  private long changesSeen;

  private StoreRegistryWatch(Function<WatchEvent, Optional<RegistryEvent>> translate, Runnable onEvents) {
    this.translate = translate;
    this.onEvents = onEvents;
  }

  static StoreRegistryWatch open(StoreClient client, KeyRange range, long fromRevision,
      Function<WatchEvent, Optional<RegistryEvent>> translate, Runnable onEvents) {
    return open(client, List.of(range), fromRevision, translate, onEvents);
  }

  static StoreRegistryWatch open(StoreClient client, List<KeyRange> ranges, long fromRevision,
      Function<WatchEvent, Optional<RegistryEvent>> translate, Runnable onEvents) {
    StoreRegistryWatch w = new StoreRegistryWatch(translate, onEvents);
    try {
      for (KeyRange range : ranges) {
        WatchHandle h = client.watch(range, fromRevision, w);
        synchronized (w) {
          w.handles.add(h);
        }
      }
    } catch (RuntimeException e) {
      w.close();
      throw e;
    }
    return w;
  }

  @Override
  public void onEvents(List<WatchEvent> batch) {
    synchronized (this) {
      changesSeen += batch.size();
    }
    List<RegistryEvent> out = new ArrayList<>(batch.size());
    for (WatchEvent e : batch) {
      translate.apply(e).ifPresent(out::add);
    }
    if (out.isEmpty()) {
      return; // nothing the loop looks at
    }
    synchronized (this) {
      if (broken) {
        return;
      }
      events.addAll(out);
    }
    onEvents.run();
  }

  @Override
  public void onCompacted(long compactRevision) {
    synchronized (this) {
      broken = true;
      events.clear();
    }
    onEvents.run();
  }

  @Override
  public void onError(StoreException e) {
    synchronized (this) {
      broken = true;
      error = e;
      events.clear();
    }
    onEvents.run();
  }

  @Override
  public synchronized List<RegistryEvent> poll(int max) {
    List<RegistryEvent> out = new ArrayList<>(Math.min(max, events.size()));
    while (out.size() < max && !events.isEmpty()) {
      out.add(events.poll());
    }
    return out;
  }

  @Override
  public synchronized boolean hasEvents() {
    return !events.isEmpty();
  }

  @Override
  public synchronized long changesSeen() {
    return changesSeen;
  }

  @Override
  public synchronized boolean isBroken() {
    return broken;
  }

  /** Why the watch ended, when it ended otherwise than by a compaction. */
  synchronized Optional<StoreException> error() {
    return Optional.ofNullable(error);
  }

  @Override
  public void close() {
    List<WatchHandle> hs;
    synchronized (this) {
      hs = List.copyOf(handles);
      events.clear();
    }
    for (WatchHandle h : hs) {
      h.close();
    }
  }
}
