package dev.flotilla.kv.v3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.proto.etcd.mvccpb.Event;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Collects a v3 watcher's events; {@link #await} waits for {@code n} of them. */
final class EventCollector implements V3WatchHub.Sink {
  final List<Event> events = new ArrayList<>();
  long compacted = -1;

  @Override
  public synchronized void events(List<Event> batch, long revision) {
    events.addAll(batch);
    notifyAll();
  }

  @Override
  public synchronized void compacted(long compactRevision) {
    compacted = compactRevision;
    notifyAll();
  }

  synchronized List<Event> await(int n) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (events.size() < n && System.nanoTime() < end) {
      wait(100);
    }
    assertThat(events).hasSize(n);
    return List.copyOf(events);
  }
}
