package dev.flotilla.raft.sim;

import java.util.PriorityQueue;

/**
 * The seeded simulation's agenda: events ordered by time, ties broken by scheduling order, so a
 * run is a pure function of its seed.
 */
public final class EventQueue {

  /** Something that happens at {@code atMicros}. */
  record Event(long atMicros, long seq, String label, Runnable action) implements Comparable<Event> {
    @Override
    public int compareTo(Event o) {
      int c = Long.compare(atMicros, o.atMicros);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }

  private final SimClock clock;
  private final PriorityQueue<Event> queue = new PriorityQueue<>();
  private long seq;
  private long executed;

  public EventQueue(SimClock clock) {
    this.clock = clock;
  }

  public void schedule(long delayMicros, String label, Runnable action) {
    queue.add(new Event(clock.nowMicros() + Math.max(0, delayMicros), seq++, label, action));
  }

  /** Runs the next event, if any is due at or before {@code untilMicros}; returns its label or null. */
  String runNext(long untilMicros) {
    Event e = queue.peek();
    if (e == null || e.atMicros() > untilMicros) {
      return null;
    }
    queue.poll();
    clock.advanceTo(e.atMicros());
    executed++;
    e.action().run();
    return e.label();
  }

  public long executed() {
    return executed;
  }

  public int pending() {
    return queue.size();
  }
}
