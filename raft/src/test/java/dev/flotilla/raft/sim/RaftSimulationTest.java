package dev.flotilla.raft.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Runs many seeded {@link RandomSchedule}s. Properties:
 *
 * <ul>
 *   <li>{@code -Dsim.schedules=N} how many (default {@value #DEFAULT_SCHEDULES}); long mode: 1000000</li>
 *   <li>{@code -Dsim.baseSeed=S} first seed (default 1); seeds are S..S+N-1</li>
 *   <li>{@code -Dsim.seed=S} replay just seed S (add {@code -Dsim.trace=true} to print every event)</li>
 *   <li>{@code -Dsim.threads=T} parallel schedules (default: available processors)</li>
 * </ul>
 */
class RaftSimulationTest {

  static final int DEFAULT_SCHEDULES = 10_000;

  static String replayCommand(long seed) {
    return "mvn -o -q -pl raft -am test -Dtest=RaftSimulationTest -Dsurefire.failIfNoSpecifiedTests=false -Dsim.seed=" + seed;
  }

  @Test
  void seededSchedulesKeepEveryInvariant() throws Exception {
    String single = System.getProperty("sim.seed");
    if (single != null) {
      long seed = Long.parseLong(single);
      boolean trace = Boolean.getBoolean("sim.trace");
      String failure = runOne(seed, trace);
      assertThat(failure).as("seed %d", seed).isNull();
      return;
    }
    int schedules = Integer.getInteger("sim.schedules", DEFAULT_SCHEDULES);
    long base = Long.getLong("sim.baseSeed", 1L);
    int threads = Integer.getInteger("sim.threads", Runtime.getRuntime().availableProcessors());
    List<String> failures = Collections.synchronizedList(new ArrayList<>());
    AtomicLong events = new AtomicLong();
    AtomicLong committed = new AtomicLong();
    AtomicLong elections = new AtomicLong();
    AtomicLong reads = new AtomicLong();
    AtomicLong crashes = new AtomicLong();
    AtomicLong confChanges = new AtomicLong();
    AtomicLong snapshots = new AtomicLong();
    AtomicLong wipes = new AtomicLong();
    long started = System.nanoTime();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    for (int i = 0; i < schedules; i++) {
      long seed = base + i;
      pool.execute(() -> {
        if (failures.size() >= 10) {
          return; // enough to go on
        }
        try {
          RandomSchedule.Result r = new RandomSchedule(seed, null).run();
          events.addAndGet(r.events());
          committed.addAndGet(r.committed());
          elections.addAndGet(r.elections());
          reads.addAndGet(r.reads());
          crashes.addAndGet(r.crashes());
          confChanges.addAndGet(r.confChanges());
          snapshots.addAndGet(r.snapshotsInstalled());
          wipes.addAndGet(r.wipes());
        } catch (Throwable t) {
          failures.add(describe(seed, t));
        }
      });
    }
    pool.shutdown();
    assertThat(pool.awaitTermination(2, TimeUnit.HOURS)).isTrue();
    long ms = (System.nanoTime() - started) / 1_000_000;
    System.out.printf("simulation: %d schedules (seeds %d..%d) in %d ms on %d threads: %d events, %d entries committed,"
            + " %d elections, %d reads checked, %d crashes, %d conf changes, %d snapshots installed,"
            + " %d disk wipes repaired by a new member%n",
        schedules, base, base + schedules - 1, ms, threads, events.get(), committed.get(), elections.get(), reads.get(),
        crashes.get(), confChanges.get(), snapshots.get(), wipes.get());
    assertThat(failures).as("failing schedules").isEmpty();
  }

  private static String runOne(long seed, boolean trace) {
    try {
      new RandomSchedule(seed, trace ? System.out::println : null).run();
      return null;
    } catch (Throwable t) {
      return describe(seed, t);
    }
  }

  private static String describe(long seed, Throwable t) {
    StringWriter sw = new StringWriter();
    t.printStackTrace(new PrintWriter(sw));
    String msg = "seed " + seed + " failed: " + t + "\n  replay: " + replayCommand(seed) + "\n" + sw;
    System.out.println(msg);
    return msg;
  }
}
