package dev.flotilla.agent;

import dev.flotilla.agent.runtime.RuntimeFailure;
import dev.flotilla.agent.runtime.StateChanges;
import dev.flotilla.agent.runtime.UnitRuntime;
import dev.flotilla.agent.runtime.UnitStatus;
import dev.flotilla.scheduler.fleet.InvalidUnitException;
import dev.flotilla.scheduler.fleet.XFleetOptions;
import dev.flotilla.scheduler.registry.DesiredState;
import dev.flotilla.scheduler.registry.MachineSchedule;
import dev.flotilla.scheduler.registry.RegistryEvent;
import dev.flotilla.scheduler.registry.RegistryWatch;
import dev.flotilla.scheduler.registry.UnitRecord;
import dev.flotilla.scheduler.registry.UnitRegistry;
import dev.flotilla.scheduler.registry.UnitStateRecord;
import dev.flotilla.scheduler.registry.UnitStateRegistry;
import dev.flotilla.scheduler.registry.Versioned;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's loop: makes the host's runtime run what the schedule gives this machine (its own
 * assignments, and the global units its metadata matches), and reports the states the runtime
 * shows when they change.
 *
 * <p>Driven by two watches of this machine's keys only ({@code schedule/<machine>/} and
 * {@code globals/}), never the whole cluster. The schedule is a list and watch: one read, then the
 * watch's events (which carry each entry's desired state) applied to it, with no read per event;
 * it is read again when its watch is opened anew (compaction, error) and at the safety pass. A
 * globals event makes the next round read those few keys again. Changes from the watch are taken
 * once it has been quiet for {@value #BURST_QUIET_MS} ms (at most {@value #BURST_MAX_MS} ms after
 * the first): the engine writes a burst of 300 in several txns, and acting on the first one would
 * leave the others waiting for a {@code systemctl start} that takes up to a second. For the same
 * reason the start of new units may run on the {@code starts} executor: units assigned while it
 * runs are started beside it (a second burst, or the rest of one the engine placed in two writes),
 * while anything else (stops, unloads, changed files) waits until no start runs. Every action is
 * idempotent and taken in batches (one load, one start, one stop per round). The agent starts a
 * unit when its desired state becomes launched and does not restart it when it later fails (as
 * fleet's agent; systemd's {@code Restart=} does that); after an agent restart it adopts what the
 * runtime already runs instead of starting it again.
 *
 * <p>States are read in batches: right after an action (and at follow-ups 0.2, 1 and 3 s later,
 * except while a start runs and the runtime follows changes: its end reads them),
 * when the runtime says units changed ({@link UnitRuntime#changes}: systemd's journal, the
 * process supervisor; those units only, a few ms after the first change so that a burst is one
 * read), and otherwise by a poll, slow (a safety net) while the runtime follows changes, faster
 * while it does not.
 *
 * <p>Not thread-safe: one thread calls {@link #reconcile}, which takes {@code now} and returns
 * when it wants to run next.
 */
public final class AgentReconciler implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AgentReconciler.class);

  /**
   * @param statePoll how often unit states are read when nothing happens and the runtime does not
   *     follow changes (or its feed is down)
   * @param safetyPass how often everything is read again even without events
   * @param followedStatePoll how often unit states are read when nothing happens while the runtime
   *     follows changes ({@link UnitRuntime#changes}): a safety net for changes it cannot see
   * @param debounce how long after a change is seen its units are read, so that a burst (300 units
   *     starting) is one batched read
   */
  public record Config(Duration statePoll, Duration safetyPass, Duration followedStatePoll, Duration debounce) {
    public Config(Duration statePoll, Duration safetyPass) {
      this(statePoll, safetyPass, defaults().followedStatePoll(), defaults().debounce());
    }

    public static Config defaults() {
      return new Config(Duration.ofSeconds(5), Duration.ofSeconds(60), Duration.ofSeconds(60), Duration.ofMillis(20));
    }
  }

  /** After an action, states are read again after these delays (then every statePoll). */
  private static final long[] FOLLOW_UPS_MS = {200, 1_000, 3_000};
  /**
   * Schedule changes from the watch are acted on once no more came for this long, or at the latest
   * {@link #BURST_MAX_MS} after the first: one engine write (its txns land a few ms apart) is one start.
   */
  static final long BURST_QUIET_MS = 20;
  static final long BURST_MAX_MS = 150;
  /** When reading changed units failed: when to try again. */
  private static final long RETRY_READ_NANOS = 1_000_000_000L;

  private final String machineId;
  private final MachineSchedule schedule;
  private final UnitRegistry units;
  private final UnitStateRegistry stateRegistry;
  private final Supplier<Map<String, String>> metadata;
  private final UnitRuntime runtime;
  private final Config config;
  /** Runs the starts of new units; {@code Runnable::run}: on the loop's thread, one at a time. */
  private final Executor starts;
  /** Units whose start runs on {@link #starts} now (left out of state reads until it returned). */
  private final Set<String> starting = ConcurrentHashMap.newKeySet();
  private final AtomicLong startsEnded = new AtomicLong();
  private long startsEndedSeen;
  /** An action waited for the running starts to end: act again then. */
  private boolean actDeferred;

  private RegistryWatch assignedWatch;
  private RegistryWatch globalsWatch;
  private boolean assignedReadNeeded = true;
  private boolean globalsReadNeeded = true;
  /** The store revisions the last read of this machine's schedule and of the globals saw (0: none). */
  private long assignedRead;
  private long globalsRead;
  /** This machine's schedule entries: the last read, with the watch's events since applied. */
  private final Map<String, DesiredState> assigned = new TreeMap<>();
  /** The global units' entries as of the last read of them. */
  private Map<String, DesiredState> globalEntries = Map.of();
  /** Schedule changes from the watch not acted on yet: since when, and when they are taken. */
  private boolean burst;
  private long burstSince;
  private long burstDue;
  private long scheduleReads;
  private long nextSafetyPass;
  private long nextStatePoll;
  private int followUp = FOLLOW_UPS_MS.length;
  private long lastActionAt;
  /** Whether the runtime followed changes at the last look (else states are polled faster). */
  private boolean followed;
  /** Units the runtime said changed, read once {@link #dirtyDue} comes. */
  private final Set<String> dirty = new HashSet<>();
  private boolean dirtyAll;
  private long dirtyDue;
  private long reads;

  /** What this machine should have: unit → desired state (never inactive). */
  private final Map<String, DesiredState> target = new TreeMap<>();
  /** Unit files read for the target, by name (a submitted unit's file never changes). */
  private final Map<String, UnitRecord> files = new HashMap<>();
  /** Units the runtime holds for us, with the file text loaded (null: adopted, text unknown). */
  private final Map<String, String> loaded = new HashMap<>();
  /** Units this agent started (or found running) and has not stopped since. */
  private final Set<String> started = new HashSet<>();
  /** Last state reported per unit. */
  private final Map<String, UnitStateRecord> reported = new HashMap<>();
  private boolean adopted;
  private long actions;
  /** The presence was renewed: every state is reported again at the next round, start or not. */
  private boolean reportAllNow;

  public AgentReconciler(String machineId, MachineSchedule schedule, UnitRegistry units,
      UnitStateRegistry stateRegistry, Supplier<Map<String, String>> metadata, UnitRuntime runtime, Config config) {
    this(machineId, schedule, units, stateRegistry, metadata, runtime, config, Runnable::run);
  }

  /**
   * @param starts runs the start of new units (their files and their start, one
   *     {@link UnitRuntime#loadAndStart}), maybe beside the loop and beside each other: only for a
   *     runtime that takes calls from several threads at once; the caller wakes the loop when one ends
   */
  public AgentReconciler(String machineId, MachineSchedule schedule, UnitRegistry units,
      UnitStateRegistry stateRegistry, Supplier<Map<String, String>> metadata, UnitRuntime runtime, Config config,
      Executor starts) {
    this.starts = Objects.requireNonNull(starts);
    this.machineId = Objects.requireNonNull(machineId);
    this.schedule = Objects.requireNonNull(schedule);
    this.units = Objects.requireNonNull(units);
    this.stateRegistry = Objects.requireNonNull(stateRegistry);
    this.metadata = Objects.requireNonNull(metadata);
    this.runtime = Objects.requireNonNull(runtime);
    this.config = Objects.requireNonNull(config);
  }

  /** Runtime actions taken so far (loads, starts, stops, unloads; a batch counts once). */
  public long actions() {
    return actions;
  }

  /** Reads of this machine's schedule so far (its watch's events need none), for tests and metrics. */
  public long scheduleReads() {
    return scheduleReads;
  }

  /** State reads so far (each one batch of {@link UnitRuntime#states}), for tests and metrics. */
  public long stateReads() {
    return reads;
  }

  /** The units this machine should run, as of the last round. */
  public Map<String, DesiredState> target() {
    return Map.copyOf(target);
  }

  /** Forget what was reported: the presence lease was lost, and the states under it went too. */
  public void presenceRenewed() {
    reported.clear();
    reportAllNow = true; // at the next round, also while a start runs: the states went with the lease
  }

  /** Reads and reports every target unit's state; what was marked changed is covered by it. */
  private void reportAll() {
    dirty.clear();
    dirtyAll = false;
    report(target.keySet(), true);
  }

  /** One round; returns when the next one is due. */
  public long reconcile(long nowNanos) {
    if (!adopted) {
      adopt();
      adopted = true;
    }
    if (assignedWatch == null || assignedWatch.isBroken() || globalsWatch == null || globalsWatch.isBroken()) {
      openWatches(); // reads everything: the safety pass is a full period away
      nextSafetyPass = nowNanos + config.safetyPass().toNanos();
    }
    if (applyScheduleEvents(assignedWatch.poll(Integer.MAX_VALUE))) {
      burstDue = burst ? Math.min(nowNanos + BURST_QUIET_MS * 1_000_000L, burstSince + BURST_MAX_MS * 1_000_000L)
          : nowNanos + BURST_QUIET_MS * 1_000_000L;
      if (!burst) {
        burst = true;
        burstSince = nowNanos;
      }
    }
    // events the last read already saw (the engine's txns landing while it read) ask for no new one
    if (after(globalsWatch.poll(Integer.MAX_VALUE), globalsRead)) {
      globalsReadNeeded = true;
    }
    if (nowNanos - nextSafetyPass >= 0) {
      assignedReadNeeded = true;
      globalsReadNeeded = true;
      nextSafetyPass = nowNanos + config.safetyPass().toNanos();
    }
    long ended = startsEnded.get();
    boolean startEnded = ended != startsEndedSeen;
    if (startEnded) {
      startsEndedSeen = ended;
      nextStatePoll = Math.min(nextStatePoll, nowNanos); // the started units' states, now that the start returned
    }
    boolean deferredDue = actDeferred && starting.isEmpty();
    if (assignedReadNeeded || globalsReadNeeded || (burst && nowNanos - burstDue >= 0) || deferredDue) {
      burst = false;
      actDeferred = false;
      readTarget();
      if (act()) {
        lastActionAt = nowNanos;
        followUp = 0;
        // a read already due sooner stays: during a burst every round acts, and pushing the read
        // 0.2 s past each round's start left units started rounds ago unreported until the burst ended
        long firstFollowUp = nowNanos + FOLLOW_UPS_MS[0] * 1_000_000L;
        if (nextStatePoll - firstFollowUp > 0) {
          nextStatePoll = firstFollowUp;
        }
      }
    }
    noteChanges(nowNanos);
    if (reportAllNow) {
      reportAllNow = false;
      reportAll();
    } else if (nowNanos - nextStatePoll >= 0) {
      // while a start runs under a followed runtime, a follow-up would read only the units not
      // starting, whose changes the feed brings anyway, and ask a PID 1 busy with the start (one
      // systemctl each); the start's end reads them all
      if (startEnded || !followed || starting.isEmpty()) {
        reportAll();
      }
      if (followUp < FOLLOW_UPS_MS.length - 1) {
        followUp++;
        nextStatePoll = lastActionAt + FOLLOW_UPS_MS[followUp] * 1_000_000L;
      } else {
        followUp = FOLLOW_UPS_MS.length;
        nextStatePoll = nowNanos + idleStatePoll();
      }
    } else if ((dirtyAll || !dirty.isEmpty()) && nowNanos - dirtyDue >= 0) {
      dirty.retainAll(target.keySet());
      if (dirtyAll ? report(target.keySet(), true) : report(dirty, false)) {
        dirty.clear();
        dirtyAll = false;
      } else {
        dirtyDue = nowNanos + RETRY_READ_NANOS; // the runtime could not say: ask again soon
      }
    }
    long next = nextStatePoll - nextSafetyPass < 0 ? nextStatePoll : nextSafetyPass;
    if (burst && burstDue - next < 0) {
      next = burstDue;
    }
    if ((dirtyAll || !dirty.isEmpty()) && dirtyDue - next < 0) {
      next = dirtyDue;
    }
    return next;
  }

  /**
   * Takes what the runtime learnt of changed states: the units named (ours only) are read after
   * the debounce; if its feed went down, states are polled at the faster rate again.
   */
  private void noteChanges(long nowNanos) {
    StateChanges c = runtime.changes();
    if (c.live() != followed) {
      followed = c.live();
      log.info("machine {}: unit states {}", machineId, followed
          ? "followed through the runtime's change feed; polling every " + config.followedStatePoll().toSeconds() + " s"
          : "polled every " + config.statePoll().toMillis() + " ms (the runtime's change feed is down)");
      if (!followed && nextStatePoll - (nowNanos + config.statePoll().toNanos()) > 0) {
        nextStatePoll = nowNanos + config.statePoll().toNanos();
      }
    }
    boolean had = dirtyAll || !dirty.isEmpty();
    if (c.all()) {
      dirtyAll = true;
    }
    for (String u : c.units()) {
      if (target.containsKey(u)) {
        dirty.add(u);
      }
    }
    if (!had && (dirtyAll || !dirty.isEmpty())) {
      dirtyDue = nowNanos + config.debounce().toNanos();
    }
  }

  private long idleStatePoll() {
    return (followed ? config.followedStatePoll() : config.statePoll()).toNanos();
  }

  /** What the runtime already holds from an earlier life of this agent: running units are kept. */
  private void adopt() {
    Set<String> installed = runtime.installed();
    if (installed.isEmpty()) {
      return;
    }
    Map<String, UnitStatus> now = runtime.states(installed);
    for (String u : installed) {
      loaded.put(u, null);
      if (now.getOrDefault(u, UnitStatus.NOT_FOUND).isActive()) {
        started.add(u);
      }
    }
    log.info("machine {}: found {} units installed by an earlier agent ({} running)", machineId, installed.size(),
        started.size());
  }

  /**
   * Reads this machine's schedule and watches it from the next revision on (list and watch: its
   * events are applied to this read); the globals are read in the round, at that revision or later.
   */
  private void openWatches() {
    closeWatches();
    readAssigned();
    globalsReadNeeded = true;
    long from = assignedRead + 1;
    assignedWatch = schedule.watchAssignedTo(machineId, from);
    globalsWatch = schedule.watchGlobals(from);
  }

  private void readAssigned() {
    MachineSchedule.Assigned a = schedule.assignedTo(machineId);
    scheduleReads++;
    assigned.clear();
    assigned.putAll(a.units());
    assignedRead = a.revision();
    assignedReadNeeded = false;
  }

  /**
   * Applies the schedule watch's events to {@link #assigned}: those the last read saw are skipped,
   * one without its entry's value asks for a read. True when one changed the schedule known here.
   */
  private boolean applyScheduleEvents(List<RegistryEvent> events) {
    int applied = 0;
    for (RegistryEvent e : events) {
      if (e.revision() <= assignedRead) {
        continue;
      }
      if (e instanceof RegistryEvent.AssignmentChanged a && a.carried()) {
        if (a.desired() == null) {
          assigned.remove(a.unit());
        } else {
          assigned.put(a.unit(), a.desired());
        }
        applied++;
      } else {
        assignedReadNeeded = true;
      }
    }
    if (applied > 0 && log.isDebugEnabled()) {
      log.debug("machine {}: {} schedule changes from the watch (revisions {}..{})", machineId, applied,
          events.get(0).revision(), events.get(events.size() - 1).revision());
    }
    return applied > 0;
  }

  /** Whether one of {@code events} is newer than revision {@code read} (a read there has seen the others). */
  private static boolean after(List<RegistryEvent> events, long read) {
    for (RegistryEvent e : events) {
      if (e.revision() > read) {
        return true;
      }
    }
    return false;
  }

  /** The target from the schedule known here (read first where it must be), and the files it needs. */
  private void readTarget() {
    long t0 = System.nanoTime();
    if (assignedReadNeeded) {
      log.debug("machine {}: reading the schedule", machineId);
      readAssigned();
    }
    if (globalsReadNeeded) {
      MachineSchedule.Assigned globalsNow = schedule.globals();
      globalsRead = globalsNow.revision();
      globalEntries = globalsNow.units();
      globalsReadNeeded = false;
    }
    Map<String, DesiredState> next = new TreeMap<>();
    assigned.forEach((u, d) -> {
      if (d != DesiredState.INACTIVE) {
        next.put(u, d);
      }
    });
    Map<String, DesiredState> globals = globalEntries;
    if (!globals.isEmpty()) {
      Map<String, String> mine = metadata.get();
      globals.forEach((u, d) -> {
        if (d != DesiredState.INACTIVE && !next.containsKey(u)) {
          unitFile(u).filter(r -> matches(r, mine)).ifPresent(r -> next.put(u, d));
        }
      });
    }
    // the file of each unit we run (read once: a submitted unit's file never changes), those not
    // known yet in one batched read (100 new assignments: a few store requests, not 100)
    long t1 = System.nanoTime();
    List<String> unknown = next.keySet().stream().filter(u -> !files.containsKey(u)).toList();
    if (unknown.size() > 1) {
      units.units(unknown).forEach((u, v) -> files.put(u, v.value()));
    }
    if (log.isDebugEnabled()) {
      log.debug("machine {}: {} units assigned ({} ms), {} files read ({} ms)", machineId, next.size(),
          (t1 - t0) / 1_000_000, unknown.size(), (System.nanoTime() - t1) / 1_000_000);
    }
    next.keySet().removeIf(u -> unitFile(u).isEmpty()); // destroyed meanwhile: its entry goes next
    files.keySet().retainAll(next.keySet());
    target.clear();
    target.putAll(next);
  }

  private Optional<UnitRecord> unitFile(String unit) {
    UnitRecord r = files.get(unit);
    if (r == null) {
      r = units.unit(unit).map(Versioned::value).orElse(null);
      if (r != null) {
        files.put(unit, r);
      }
    }
    return Optional.ofNullable(r);
  }

  private static boolean matches(UnitRecord r, Map<String, String> metadata) {
    try {
      return XFleetOptions.parse(r.name(), r.file()).metadata().matches(metadata);
    } catch (InvalidUnitException e) {
      return false;
    }
  }

  /** Brings the runtime in line with the target; true when it did something. */
  private boolean act() {
    Map<String, String> toLoad = new TreeMap<>();
    target.forEach((u, d) -> {
      String text = files.get(u).file().serialize();
      if (!text.equals(loaded.get(u))) {
        toLoad.put(u, text);
      }
    });
    TreeSet<String> toUnload = new TreeSet<>(loaded.keySet());
    toUnload.removeAll(target.keySet());
    TreeSet<String> toStart = new TreeSet<>();
    TreeSet<String> toStop = new TreeSet<>();
    target.forEach((u, d) -> {
      if (d == DesiredState.LAUNCHED && !started.contains(u)) {
        toStart.add(u);
      } else if (d == DesiredState.LOADED && started.contains(u)) {
        toStop.add(u);
      }
    });
    // units the runtime does not hold yet, all to start, and nothing else to do
    boolean onlyNewStarts = toUnload.isEmpty() && toStop.isEmpty() && !toStart.isEmpty()
        && toLoad.keySet().equals(toStart) && toStart.stream().noneMatch(loaded::containsKey);
    if (onlyNewStarts) {
      // new assignments: loaded and started in one go (systemd: the start takes up new files), on
      // the starts executor, beside any start still running
      log.info("machine {}: loading {}", machineId, toLoad.keySet());
      log.info("machine {}: starting {}", machineId, toStart);
      loaded.putAll(toLoad);
      started.addAll(toStart); // a unit that failed to start is reported failed, not started again
      starting.addAll(toStart);
      actions++;
      starts.execute(() -> {
        try {
          runtime.loadAndStart(toLoad, toStart);
        } catch (RuntimeFailure e) {
          log.warn("machine {}: load and start failed: {}", machineId, e.getMessage());
        } catch (RuntimeException e) {
          // not retried either (the units count as started): their states say what became of them
          log.warn("machine {}: load and start failed", machineId, e);
        } finally {
          starting.removeAll(toStart);
          startsEnded.incrementAndGet();
        }
      });
      if (!starting.containsAll(toStart)) {
        startsEndedSeen = startsEnded.get(); // ran on this thread (or is over already): the follow-ups as before
      }
      return true;
    }
    if (!starting.isEmpty() && !(toUnload.isEmpty() && toStop.isEmpty() && toLoad.isEmpty() && toStart.isEmpty())) {
      actDeferred = true; // a stop or unload must not race a start of the same units: after it
      log.debug("machine {}: {} units to unload, {} to stop, {} files to load, {} to start wait for the starts running",
          machineId, toUnload.size(), toStop.size(), toLoad.size(), toStart.size());
      return false;
    }
    boolean acted = false;
    if (!toUnload.isEmpty()) {
      log.info("machine {}: unloading {}", machineId, toUnload);
      attempt("unload", () -> runtime.unload(toUnload));
      toUnload.forEach(u -> {
        loaded.remove(u);
        started.remove(u);
      });
      acted = true;
    }
    // stops before loads and starts (the units are apart: a unit to stop is loaded and runs)
    if (!toStop.isEmpty()) {
      log.info("machine {}: stopping {}", machineId, toStop);
      attempt("stop", () -> runtime.stop(toStop));
      started.removeAll(toStop);
      acted = true;
    }
    if (!toLoad.isEmpty() && !toStart.isEmpty()) {
      // new assignments: loaded and started in one go (systemd: the start takes up new files)
      log.info("machine {}: loading {}", machineId, toLoad.keySet());
      log.info("machine {}: starting {}", machineId, toStart);
      attempt("load and start", () -> runtime.loadAndStart(toLoad, toStart));
      loaded.putAll(toLoad);
      started.addAll(toStart); // a unit that failed to start is reported failed, not started again
      return true;
    }
    if (!toLoad.isEmpty()) {
      log.info("machine {}: loading {}", machineId, toLoad.keySet());
      attempt("load", () -> runtime.load(toLoad));
      loaded.putAll(toLoad);
      acted = true;
    }
    if (!toStart.isEmpty()) {
      log.info("machine {}: starting {}", machineId, toStart);
      attempt("start", () -> runtime.start(toStart));
      started.addAll(toStart); // a unit that failed to start is reported failed, not started again
      acted = true;
    }
    return acted;
  }

  private void attempt(String what, Runnable action) {
    actions++;
    try {
      action.run();
    } catch (RuntimeFailure e) {
      log.warn("machine {}: {} failed: {}", machineId, what, e.getMessage());
    }
  }

  /**
   * Reads the states of these units in one batch and reports those that changed; a full report
   * ({@code all}) also clears the states of units no longer here.
   */
  private boolean report(Set<String> units, boolean all) {
    Set<String> watched = new TreeSet<>(units);
    watched.removeAll(starting); // read once their start returned
    Map<String, UnitStatus> now = watched.isEmpty() ? Map.of() : readStates(watched);
    if (now == null) {
      return false; // the runtime could not say: report nothing rather than guess
    }
    List<UnitStateRecord> changed = new ArrayList<>();
    for (String u : watched) {
      UnitStatus s = now.getOrDefault(u, UnitStatus.NOT_FOUND);
      UnitRecord r = files.get(u);
      UnitStateRecord rec = new UnitStateRecord(u, machineId, r.file().hash(), s.loadState(), s.activeState(),
          s.subState());
      if (!rec.equals(reported.get(u))) {
        changed.add(rec);
      }
    }
    if (!changed.isEmpty()) {
      long t0 = System.nanoTime();
      stateRegistry.reportAll(changed); // a few txns for a burst of 300, not 300 writes
      changed.forEach(rec -> reported.put(rec.unit(), rec));
      if (log.isDebugEnabled()) {
        log.debug("machine {}: {} of {} states read changed, {} of them active; reported in {} ms", machineId,
            changed.size(), watched.size(), changed.stream().filter(r -> "active".equals(r.activeState())).count(),
            (System.nanoTime() - t0) / 1_000_000);
      }
    }
    if (!all) {
      return true;
    }
    List<String> gone = new ArrayList<>();
    for (String u : reported.keySet()) {
      if (!target.containsKey(u)) {
        gone.add(u);
      }
    }
    for (String u : gone) {
      stateRegistry.clear(u, machineId);
      reported.remove(u);
    }
    return true;
  }

  private Map<String, UnitStatus> readStates(Set<String> watched) {
    reads++;
    try {
      return runtime.reportedStates(watched);
    } catch (RuntimeFailure e) {
      log.warn("machine {}: reading unit states failed: {}", machineId, e.getMessage());
      return null;
    }
  }

  private void closeWatches() {
    if (assignedWatch != null) {
      assignedWatch.close();
      assignedWatch = null;
    }
    if (globalsWatch != null) {
      globalsWatch.close();
      globalsWatch = null;
    }
  }

  @Override
  public void close() {
    closeWatches();
  }
}
