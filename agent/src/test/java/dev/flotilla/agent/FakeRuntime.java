package dev.flotilla.agent;

import dev.flotilla.agent.runtime.StateChanges;
import dev.flotilla.agent.runtime.UnitRuntime;
import dev.flotilla.agent.runtime.UnitStatus;
import dev.flotilla.scheduler.api.UnitHost.JournalPage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.locks.LockSupport;

/**
 * The deterministic twin of a host's runtime: unit files and running units in memory, every call
 * recorded (so tests can count batches), and a change feed as systemd's journal gives it: every
 * state change it makes is named by the next {@link #changes()}, unless the test takes the feed
 * down or makes a unit die {@link #crashUnseen unseen}. Thread-safe: tests read it while the
 * agent's thread acts.
 */
final class FakeRuntime implements UnitRuntime {
  private final Map<String, String> files = new TreeMap<>();
  private final Map<String, Long> running = new TreeMap<>();
  private final Set<String> failing = new TreeSet<>();
  private final List<String> calls = new ArrayList<>();
  private long nextPid = 1000;
  private final Set<String> changed = new TreeSet<>();
  private boolean feedUp = true;
  private boolean feedRestarted;
  private volatile long startLatencyNanos;

  @Override
  public String name() {
    return "fake";
  }

  synchronized List<String> calls() {
    return List.copyOf(calls);
  }

  synchronized long count(String call) {
    return calls.stream().filter(c -> c.startsWith(call + " ")).count();
  }

  synchronized Map<String, String> files() {
    return Map.copyOf(files);
  }

  synchronized Map<String, Long> running() {
    return Map.copyOf(running);
  }

  /** The unit's process dies (as a crash would); the change feed names it. */
  synchronized void crash(String unit) {
    crashUnseen(unit);
    changed.add(unit);
  }

  /** These units' processes die at once (a burst of changes, as when a slice is killed). */
  synchronized void crashAll(Collection<String> units) {
    units.forEach(this::crash);
  }

  /** The unit's process dies and the change feed does not say so (a change only a poll finds). */
  synchronized void crashUnseen(String unit) {
    running.remove(unit);
    failing.add(unit);
  }

  /** The change feed stops (journalctl died): {@link #changes()} says not live. */
  synchronized void feedDown() {
    feedUp = false;
    changed.clear();
  }

  /** The change feed is back, having maybe missed changes: the next changes() says "read all". */
  synchronized void feedBack() {
    feedUp = true;
    feedRestarted = true;
  }

  @Override
  public synchronized StateChanges changes() {
    if (!feedUp) {
      return StateChanges.NOT_FOLLOWED;
    }
    var out = new StateChanges(changed, feedRestarted, true);
    changed.clear();
    feedRestarted = false;
    return out;
  }

  @Override
  public synchronized void load(Map<String, String> unitFiles) {
    calls.add("load " + unitFiles.keySet());
    files.putAll(unitFiles);
  }

  /**
   * Starts take this long from now on (as 100 systemd units take 0.5-1 s), holding no lock
   * meanwhile, and the runtime says it takes them beside other calls ({@link #startsConcurrently}).
   */
  void slowStarts(Duration latency) {
    startLatencyNanos = latency.toNanos();
  }

  @Override
  public boolean startsConcurrently() {
    return startLatencyNanos > 0;
  }

  /**
   * Recorded as itself, then as the load and the start it is (so counts of either stay true); with
   * {@link #slowStarts} the units run only once the latency passed.
   */
  @Override
  public void loadAndStart(Map<String, String> unitFiles, Collection<String> units) {
    synchronized (this) {
      calls.add("loadAndStart " + unitFiles.keySet() + " " + units);
    }
    if (startLatencyNanos > 0) {
      LockSupport.parkNanos(startLatencyNanos);
    }
    synchronized (this) {
      UnitRuntime.super.loadAndStart(unitFiles, units);
    }
  }

  @Override
  public synchronized void unload(Collection<String> units) {
    calls.add("unload " + units);
    units.forEach(u -> {
      files.remove(u);
      running.remove(u);
      failing.remove(u);
    });
  }

  @Override
  public synchronized void start(Collection<String> units) {
    calls.add("start " + units);
    units.forEach(u -> {
      if (files.containsKey(u) && !running.containsKey(u)) {
        running.put(u, nextPid++);
        failing.remove(u);
        changed.add(u);
      }
    });
  }

  @Override
  public synchronized void stop(Collection<String> units) {
    calls.add("stop " + units);
    units.forEach(u -> {
      if (running.remove(u) != null) {
        changed.add(u);
      }
    });
  }

  @Override
  public synchronized Map<String, UnitStatus> states(Collection<String> units) {
    calls.add("states " + units.size());
    Map<String, UnitStatus> out = new TreeMap<>();
    for (String u : units) {
      if (!files.containsKey(u)) {
        out.put(u, UnitStatus.NOT_FOUND);
      } else if (running.containsKey(u)) {
        out.put(u, new UnitStatus("loaded", "active", "running", running.get(u)));
      } else if (failing.contains(u)) {
        out.put(u, new UnitStatus("loaded", "failed", "failed", 0));
      } else {
        out.put(u, new UnitStatus("loaded", "inactive", "dead", 0));
      }
    }
    return out;
  }

  @Override
  public synchronized Set<String> installed() {
    return Set.copyOf(files.keySet());
  }

  @Override
  public synchronized JournalPage journal(String unit, int lines) {
    return new JournalPage(List.of(), "fake");
  }

  @Override
  public synchronized JournalPage journalAfter(String unit, String cursor) {
    return new JournalPage(List.of(), cursor);
  }

  @Override
  public synchronized String status(String unit) {
    return unit;
  }

  @Override
  public void close() {}
}
