package dev.flotilla.scheduler.engine;

import dev.flotilla.scheduler.fleet.InvalidUnitException;
import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.fleet.XFleetOptions;
import dev.flotilla.scheduler.placement.ClusterState;
import dev.flotilla.scheduler.placement.Decision;
import dev.flotilla.scheduler.placement.Machine;
import dev.flotilla.scheduler.placement.Placement;
import dev.flotilla.scheduler.placement.Planner;
import dev.flotilla.scheduler.registry.DesiredState;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.RegistryEvent;
import dev.flotilla.scheduler.registry.RegistryWatch;
import dev.flotilla.scheduler.registry.ScheduleRegistry;
import dev.flotilla.scheduler.registry.ScheduleWrite;
import dev.flotilla.scheduler.registry.UnitRecord;
import dev.flotilla.scheduler.registry.UnitRegistry;
import dev.flotilla.scheduler.registry.Versioned;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fleet engine: while it holds the {@link EngineLease}, it keeps the schedule true to the units
 * and machines in the registry. Single-threaded and clock-free: {@link #reconcile(long)} takes
 * {@code now} and returns when it wants to be called again; a thin shell ({@link EngineRunner})
 * owns the thread.
 *
 * <p>What it does, driven by registry watch events and a periodic full pass (the safety net for
 * anything a watch could miss):
 *
 * <ul>
 *   <li>places units whose desired state is loaded or launched and that are not scheduled, through
 *       {@link Planner} (feasibility, then least loaded; {@code Replaces=} carried out);</li>
 *   <li>moves units off machines whose presence expired, and units that may no longer stay where
 *       they are ({@link Placement#check}: metadata changed, a MachineOf unit moved...);</li>
 *   <li>unschedules inactive and destroyed units; never schedules templates or global units
 *       (agents run global units on every machine matching them, see {@link MachineUnits});</li>
 *   <li>records why a unit cannot be placed ({@code setUnscheduledReason}) for the CLI.</li>
 * </ul>
 *
 * <p>Its view of the registry (a {@link ClusterState} and the assignments as last read) is rebuilt
 * from a full read on every new lease term, every safety pass and whenever the watch breaks, and
 * kept up to date from events in between. Every schedule write is conditional on the entry's mod
 * revision, and is made only while the lease is valid at {@code now}.
 */
public final class Engine implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Engine.class);

  /**
   * @param safetyPassNanos how often the whole registry is re-read and everything re-checked
   * @param maxEventsPerPoll events taken from the watch per round
   * @param revisionCheckNanos how often at most a safety pass that found the watch silent since
   *     the last full read skips without asking the store's revision: between such checks a
   *     quiet registry costs no request; a write the watch did not pass on is found at the next
   *     check (the safety net is late by at most this much)
   */
  public record Config(long safetyPassNanos, int maxEventsPerPoll, long revisionCheckNanos, int burstMinUnits,
      long burstQuietNanos, long burstMaxNanos) {
    /** Every safety pass asks the store's revision. */
    public Config(long safetyPassNanos, int maxEventsPerPoll) {
      this(safetyPassNanos, maxEventsPerPoll, safetyPassNanos);
    }

    /** Units are placed in the round that sees them arrive (no burst window). */
    public Config(long safetyPassNanos, int maxEventsPerPoll, long revisionCheckNanos) {
      this(safetyPassNanos, maxEventsPerPoll, revisionCheckNanos, 0, 0, 0);
    }

    /**
     * This config, placing units that arrive in a burst together: when a round takes at least
     * {@code minUnits} arriving units while no write is in flight (a batch submission's txn, not
     * one unit), the engine places them once no more have arrived for {@code quietNanos}, or
     * {@code maxNanos} after the first, whichever is sooner. A burst is submitted as several
     * store txns (300 units: three) that land as commits some 10-40 ms apart; placed as they
     * landed, the first commit's units went out in a write of their own, and each agent started
     * its share in two rounds, the second after the first's {@code systemctl start}. Fewer units
     * (a single {@code fctl start}) are placed at once, as without the window.
     */
    public Config withBurstWindow(int minUnits, long quietNanos, long maxNanos) {
      return new Config(safetyPassNanos, maxEventsPerPoll, revisionCheckNanos, minUnits, quietNanos, maxNanos);
    }

    public static Config defaults() {
      return new Config(60_000_000_000L, 10_000);
    }
  }

  /** A schedule write in flight: the targets it carries out, and its answer to come. */
  private record PendingWrite(Map<String, String> targets, java.util.concurrent.CompletableFuture<List<ScheduleWrite.Outcome>> outcomes) {}

  /** Counters for tests and benchmarks. */
  public record Stats(long rounds, long fullPasses, long events, long assignments, long unassignments,
      long failedWrites, long terms, long quietPasses) {}

  /**
   * A submitted unit as the engine sees it, read at {@code modRevision}; {@code options} null when
   * its [X-Fleet] is invalid.
   */
  private record UnitEntry(UnitRecord record, long modRevision, XFleetOptions options, String invalid) {
    boolean schedulable() {
      return options != null && !record.name().isTemplate() && record.desiredState() != DesiredState.INACTIVE;
    }
  }

  private final String id;
  private final EngineRegistry registry;
  private final EngineLease lease;
  private final Config config;

  // leadership
  private EngineLease.LeaseStatus term;
  /** The schedule this term writes through, fenced on the term's lease epoch (null when not leading). */
  private ScheduleRegistry schedule;
  private long nextRenewAt;
  /** Whether the last attempt found the lease held by another: wait for {@link #nextRenewAt}. */
  private boolean following;

  // the view, valid while leader
  private RegistryWatch watch;
  private ClusterState cluster;
  private final Map<String, UnitEntry> units = new HashMap<>();
  /** unit → machine as the registry has it (after our own writes). */
  private final Map<String, String> assigned = new HashMap<>();
  /** Mod revisions of assignments (0: absent), where known (read or written); absent: read before writing. */
  private final Map<String, Long> revisions = new HashMap<>();
  /**
   * The store revision up to which each unit's assignment is known (its entry's mod revision when
   * read, the revision of our own write): assignment events at or before it are old news, such as
   * our own writes coming back, and cost no read.
   */
  private final Map<String, Long> assignmentKnownAt = new HashMap<>();
  /**
   * The store revision of the last full read of the units (0: not known): unit events up to it
   * are in that read already, and those after it carry the unit as it is to be taken.
   */
  private long unitsReadAt;
  /** Reasons as recorded in the registry. */
  private final Map<String, String> reasons = new HashMap<>();
  /** Units to look at in the next round. */
  private final TreeSet<String> dirty = new TreeSet<>();
  /**
   * Units that could not be placed, tried again when room may have appeared: a machine joined or
   * changed, a unit left or moved away, someone else wrote the schedule. A unit arriving takes
   * room from nobody, so only the units waiting to follow it are tried again then.
   */
  private final TreeMap<String, List<String>> waiting = new TreeMap<>(); // unit → its MachineOf units
  /** MachineOf unit → waiting units that follow it: looked at again when it becomes schedulable. */
  private final Map<String, TreeSet<String>> waitingFollowers = new HashMap<>();
  /** Global units (any desired state): their reasons depend on every machine. */
  private final TreeSet<String> globals = new TreeSet<>();
  private boolean clusterChanged;
  private boolean fullPassNeeded;
  /**
   * The schedule write sent by the last round and not yet answered (null: none): the engine
   * places the next units while the store commits it, and takes its answer before it writes again,
   * reads everything, or sleeps with no events waiting.
   */
  private PendingWrite pending;
  /** Assignment events of units in {@link #pending}, looked at once its answer is in: unit → newest revision. */
  private final Map<String, Long> deferredAssignments = new LinkedHashMap<>();
  private long nextSafetyPass;

  private long rounds;
  private long fullPasses;
  private long events;
  private long assignments;
  private long unassignments;
  private long failedWrites;
  private long terms;
  /** Safety passes skipped because the store had not moved since the last full read began. */
  private long quietPasses;
  /** The store's revision when the last full read began (0: unknown, the next pass reads). */
  private long readFromRevision;
  /** The watch's {@link RegistryWatch#changesSeen} when the last full read began. */
  private long seenAtRead = -1;
  /** When a safety pass last asked the store's revision. */
  private long revisionCheckedAt;
  /** Unit events the last {@link #takeEvents} applied (units submitted, changed or destroyed). */
  private int unitEventsTaken;
  /** Whether units are arriving in a burst not placed yet ({@link Config#withBurstWindow}). */
  private boolean inBurst;
  private long burstFrom;
  private long burstLastEvent;

  public Engine(String id, EngineRegistry registry, EngineLease lease, Config config) {
    this.id = Objects.requireNonNull(id);
    this.registry = Objects.requireNonNull(registry);
    this.lease = Objects.requireNonNull(lease);
    this.config = Objects.requireNonNull(config);
  }

  public String id() {
    return id;
  }

  /** Whether this engine held the lease at its last round (read it from the engine's thread). */
  public boolean isLeader() {
    return term != null;
  }

  public Stats stats() {
    return new Stats(rounds, fullPasses, events, assignments, unassignments, failedWrites, terms, quietPasses);
  }

  /**
   * One round: keeps or takes the lease, takes watch events, re-reads everything when due, and
   * brings the schedule in line. Returns the time of the next round it needs (now, when events are
   * still waiting).
   */
  public long reconcile(long nowNanos) {
    rounds++;
    if (!lead(nowNanos)) {
      return nextRenewAt;
    }
    if (watch == null) {
      watch = registry.watches().get(); // before the read: nothing between the two is missed
      fullPassNeeded = true;
    }
    boolean more = takeEvents();
    if (watch.isBroken()) {
      watch.close();
      watch = registry.watches().get();
      fullPassNeeded = true;
    }
    if (fullPassNeeded || nowNanos - nextSafetyPass >= 0) {
      more |= !finishWrite(); // the read must see it (and the revision check below counts it)
      // an idle cluster's safety pass is no request while the watch has seen no change since the
      // last full read, and one revision read every revisionCheckNanos, not a read of every unit:
      // nothing written since the last full read began means that read is still what the store holds
      long seen = watch.changesSeen();
      if (!fullPassNeeded && seen >= 0 && seen == seenAtRead && readFromRevision != 0
          && nowNanos - revisionCheckedAt < config.revisionCheckNanos()) {
        quietPasses++;
      } else {
        long revision = registry.revision().getAsLong();
        revisionCheckedAt = nowNanos;
        if (fullPassNeeded || revision == 0 || revision != readFromRevision) {
          seenAtRead = watch.changesSeen(); // before the read: a change during it is seen as one
          readEverything();
          readFromRevision = revision;
        } else {
          seenAtRead = seen; // what the watch saw was at or before this revision: in the read
          quietPasses++;
        }
      }
      fullPassNeeded = false;
      nextSafetyPass = nowNanos + config.safetyPassNanos();
    }
    if (holdForBurst(nowNanos)) {
      return more ? nowNanos : earliest(burstLastEvent + config.burstQuietNanos(), burstFrom + config.burstMaxNanos());
    }
    more |= settle();
    if (pending != null && !watch.hasEvents()) {
      more |= !finishWrite(); // nothing to place meanwhile: a round ends with its writes made
    }
    return more || pending != null ? nowNanos : earliest(nextRenewAt, nextSafetyPass);
  }

  /**
   * Whether to wait for more of a burst of arriving units before placing ({@link
   * Config#withBurstWindow}): a burst began (enough units in one round, no write in flight), more
   * arrived within the quiet time, and it is younger than its maximum.
   */
  private boolean holdForBurst(long now) {
    if (config.burstQuietNanos() <= 0) {
      return false;
    }
    if (!inBurst && unitEventsTaken >= Math.max(1, config.burstMinUnits()) && pending == null) {
      inBurst = true;
      burstFrom = now;
    }
    if (inBurst && unitEventsTaken > 0) {
      burstLastEvent = now;
    }
    if (inBurst && pending == null && !fullPassNeeded && now - burstLastEvent < config.burstQuietNanos()
        && now - burstFrom < config.burstMaxNanos()) {
      return true;
    }
    inBurst = false;
    return false;
  }

  /** Stops leading (closing the watch) and gives the lease up. */
  @Override
  public void close() {
    if (term != null) {
      standDown();
      lease.release(id);
    }
  }

  // ---- leadership

  private boolean lead(long now) {
    if (term != null && now - nextRenewAt < 0 && now - term.expiresAtNanos() < 0) {
      return true;
    }
    if (term == null && following && now - nextRenewAt < 0 && !lease.holderMayHaveChanged()) {
      return false; // a follower tries again when it said it would (or its lease saw the holder change)
    }
    EngineLease.LeaseStatus s = lease.tryAcquire(id, now);
    if (!s.heldBy(id)) {
      standDown();
      following = true;
      // at the holder's expiry, or sooner: when a lease that watches its holder sees it change,
      // else at the safety pass interval (fleet's engine looked every --engine-reconcile-interval),
      // so that a holder that let go cleanly is replaced without waiting out its lease
      nextRenewAt = s.expiresAtNanos() - now > 0 ? s.expiresAtNanos() : now + lease.ttlNanos() / 3;
      if (!lease.watchesHolder() && nextRenewAt - (now + config.safetyPassNanos()) > 0) {
        nextRenewAt = now + config.safetyPassNanos();
      }
      return false;
    }
    following = false;
    if (term == null || term.epoch() != s.epoch()) {
      standDown();
      terms++;
      schedule = registry.fenced().apply(s.epoch());
    }
    term = s;
    nextRenewAt = now + lease.ttlNanos() / 3;
    return true;
  }

  private void standDown() {
    if (pending != null) {
      try {
        pending.outcomes().join(); // let it end before a successor's term (fenced either way)
      } catch (RuntimeException e) {
        // deposed or failing: nothing of it is kept
      }
      pending = null;
    }
    deferredAssignments.clear();
    inBurst = false;
    term = null;
    readFromRevision = 0;
    schedule = null;
    if (watch != null) {
      watch.close();
      watch = null;
    }
    cluster = null;
    units.clear();
    assigned.clear();
    revisions.clear();
    assignmentKnownAt.clear();
    reasons.clear();
    dirty.clear();
    waiting.clear();
    waitingFollowers.clear();
    globals.clear();
  }

  // ---- reading

  private void readEverything() {
    fullPasses++;
    cluster = new ClusterState();
    units.clear();
    assigned.clear();
    revisions.clear();
    assignmentKnownAt.clear();
    reasons.clear();
    waiting.clear();
    waitingFollowers.clear();
    globals.clear();
    for (MachineRecord m : registry.machines().machines()) {
      cluster.putMachine(machine(m));
    }
    UnitRegistry.Listing listing = registry.units().listing();
    unitsReadAt = listing.revision();
    for (Versioned<UnitRecord> v : listing.units()) {
      UnitEntry e = entry(v);
      units.put(e.record().name().name(), e);
      if (e.options() != null && e.options().global()) {
        globals.add(e.record().name().name());
        if (e.schedulable()) {
          cluster.putGlobal(e.options());
        }
      }
    }
    schedule.assignmentsWithRevisions().forEach((unit, v) -> {
      assigned.put(unit, v.value());
      revisions.put(unit, v.modRevision());
      assignmentKnownAt.put(unit, v.modRevision());
    });
    reasons.putAll(schedule.unscheduledReasons());
    // what stays in the cluster view: assignments of schedulable units to present machines;
    // everything else is looked at below and moved, unassigned or left as it is
    for (Map.Entry<String, String> a : assigned.entrySet()) {
      UnitEntry e = units.get(a.getKey());
      if (e != null && e.schedulable() && !e.options().global() && cluster.machine(a.getValue()).isPresent()) {
        cluster.assign(e.options(), a.getValue());
      }
    }
    dirty.addAll(units.keySet());
    dirty.addAll(assigned.keySet());
    clusterChanged = true;
  }

  /**
   * Applies waiting watch events to the view; true when more are waiting. Events name what
   * changed; what it is now is read in bulk (a store reads many keys per request), once per name
   * however many events named it, and not at all for assignments known since (our own writes).
   */
  private boolean takeEvents() {
    List<RegistryEvent> batch = watch.poll(config.maxEventsPerPoll());
    events += batch.size();
    unitEventsTaken = 0;
    if (!batch.isEmpty() && log.isDebugEnabled()) {
      log.debug("engine {}: {} watch events taken", id, batch.size());
    }
    if (cluster == null) {
      return batch.size() == config.maxEventsPerPoll(); // a full read follows; events only wake us
    }
    TreeSet<String> machinesChanged = new TreeSet<>();
    // unit → the unit as of its last event (null: removed, or to be read)
    LinkedHashMap<String, Optional<Versioned<UnitRecord>>> unitsChanged = new LinkedHashMap<>();
    TreeSet<String> unitsToRead = new TreeSet<>();
    Map<String, Long> assignmentsChanged = new LinkedHashMap<>();
    for (RegistryEvent e : batch) {
      if (e instanceof RegistryEvent.UnitChanged c) {
        if (unitsReadAt > 0 && c.revision() <= unitsReadAt) {
          continue; // the full read has it (the watch opened before the read)
        }
        if (unitsReadAt > 0 && c.value() != null) {
          unitsChanged.put(c.unit(), Optional.of(c.value()));
          unitsToRead.remove(c.unit());
        } else {
          unitsChanged.put(c.unit(), Optional.empty());
          unitsToRead.add(c.unit());
        }
      } else if (e instanceof RegistryEvent.UnitRemoved r) {
        if (unitsReadAt > 0 && r.revision() <= unitsReadAt) {
          continue;
        }
        unitsChanged.put(r.unit(), Optional.empty());
        if (unitsReadAt > 0) {
          unitsToRead.remove(r.unit());
        } else {
          unitsToRead.add(r.unit());
        }
      } else if (e instanceof RegistryEvent.MachineChanged c) {
        machinesChanged.add(c.machineId());
      } else if (e instanceof RegistryEvent.MachineGone g) {
        machinesChanged.add(g.machineId());
      } else if (e instanceof RegistryEvent.AssignmentChanged a) {
        if (pending != null && pending.targets().containsKey(a.unit())) {
          deferredAssignments.merge(a.unit(), a.revision(), Math::max); // most likely our write, answered soon
        } else {
          assignmentsChanged.merge(a.unit(), a.revision(), Math::max);
        }
      }
    }
    for (String m : machinesChanged) {
      machineChanged(m);
    }
    if (!unitsToRead.isEmpty()) {
      Map<String, Versioned<UnitRecord>> now = registry.units().units(unitsToRead);
      for (String u : unitsToRead) {
        unitsChanged.put(u, Optional.ofNullable(now.get(u)));
      }
    }
    unitsChanged.forEach(this::unitChanged);
    unitEventsTaken = unitsChanged.size();
    assignmentsChanged(assignmentsChanged);
    return batch.size() == config.maxEventsPerPoll();
  }

  /** Reads the assignments that changed after what we know of them, and takes them in. */
  private void assignmentsChanged(Map<String, Long> changed) {
    List<String> toRead = new ArrayList<>();
    changed.forEach((unit, revision) -> {
      if (revision > assignmentKnownAt.getOrDefault(unit, 0L)) {
        toRead.add(unit);
      }
    });
    if (!toRead.isEmpty()) {
      Map<String, Versioned<String>> now = schedule.assignments(toRead);
      for (String u : toRead) {
        assignmentChanged(u, Optional.ofNullable(now.get(u)));
      }
    }
  }

  private void unitChanged(String name, Optional<Versioned<UnitRecord>> v) {
    UnitEntry old = units.get(name);
    UnitEntry now = v.map(Engine::entry).orElse(null);
    if (now == null) {
      units.remove(name);
      reasons.remove(name); // destroy took its reason with it
    } else {
      units.put(name, now);
    }
    if (old != null && old.options() != null && old.options().global()) {
      cluster.removeGlobal(name);
      globals.remove(name);
    }
    if (now != null && now.options() != null && now.options().global()) {
      globals.add(name);
      if (now.schedulable()) {
        cluster.putGlobal(now.options());
      }
    }
    if (old != null && now != null && !old.record().file().equals(now.record().file())) {
      // destroyed and submitted again between two polls: the view holds the old options
      Optional<String> host = cluster.hostOf(name);
      cluster.unassign(name);
      if (host.isPresent() && now.schedulable() && !now.options().global()) {
        cluster.assign(now.options(), host.get());
      }
      dirty.addAll(cluster.followersOf(name));
      clusterChanged = true;
    }
    boolean was = old != null && old.schedulable();
    boolean is = now != null && now.schedulable();
    if (was && !is) {
      // a unit leaving frees room and may strand its followers (of a global too)
      cluster.unassign(name);
      dirty.addAll(cluster.followersOf(name));
      clusterChanged = true;
    } else if (!was && is) {
      // arriving takes room from nobody: only units waiting to follow it may fit now
      dirty.addAll(waitingFollowers.getOrDefault(name, new TreeSet<>()));
    }
    dirty.add(name);
  }

  private void machineChanged(String machineId) {
    Optional<MachineRecord> m = registry.machines().machine(machineId);
    if (m.isPresent()) {
      boolean known = cluster.machine(machineId).isPresent();
      cluster.putMachine(machine(m.get()));
      for (XFleetOptions u : cluster.unitsOn(machineId)) {
        dirty.add(u.unit());
      }
      if (!known) {
        // it came back: units still assigned to it in the registry are looked at again
        assigned.forEach((u, host) -> {
          if (host.equals(machineId)) {
            dirty.add(u);
          }
        });
      }
    } else {
      for (XFleetOptions orphan : cluster.removeMachine(machineId)) {
        dirty.add(orphan.unit());
      }
    }
    dirty.addAll(globals); // where they run, or why nowhere, may have changed
    clusterChanged = true;
  }

  private void assignmentChanged(String unit, Optional<Versioned<String>> v) {
    String host = v.map(Versioned::value).orElse(null);
    if (Objects.equals(host, assigned.get(unit))) {
      // our own write coming back (its revision was not known): learn it
      v.ifPresentOrElse(x -> {
        revisions.put(unit, x.modRevision());
        assignmentKnownAt.put(unit, x.modRevision());
      }, () -> revisions.put(unit, 0L));
      return;
    }
    // someone else's write (a previous leader's late one): take it as the truth and look again
    noteAssignment(unit, v);
    dirty.add(unit);
    clusterChanged = true;
  }

  /** Records what the registry says about {@code unit}'s assignment, in the view too. */
  private void noteAssignment(String unit, Optional<Versioned<String>> v) {
    if (v.isEmpty()) {
      assigned.remove(unit);
      revisions.put(unit, 0L);
      cluster.unassign(unit);
      return;
    }
    assigned.put(unit, v.get().value());
    revisions.put(unit, v.get().modRevision());
    assignmentKnownAt.put(unit, v.get().modRevision());
    UnitEntry e = units.get(unit);
    if (e != null && e.schedulable() && !e.options().global() && cluster.machine(v.get().value()).isPresent()) {
      if (!cluster.hostOf(unit).equals(Optional.of(v.get().value()))) {
        cluster.assign(e.options(), v.get().value());
      }
    } else {
      cluster.unassign(unit);
    }
  }

  // ---- deciding

  /**
   * Brings every dirty unit (and, when the cluster changed, every waiting one) in line: checks
   * the scheduled ones, places the rest in one batch, writes the differences. True when a write
   * failed and another round is needed.
   */
  private boolean settle() {
    if (clusterChanged) {
      dirty.addAll(waiting.keySet());
      clusterChanged = false;
    }
    if (dirty.isEmpty()) {
      return !finishWrite();
    }
    ArrayDeque<String> work = new ArrayDeque<>(dirty);
    TreeSet<String> seen = new TreeSet<>(dirty);
    dirty.clear();
    List<XFleetOptions> toPlace = new ArrayList<>();
    Map<String, String> targets = new HashMap<>(); // unit → machine, or null to unassign
    Map<String, String> newReasons = new HashMap<>();
    boolean freed = false; // a unit left its machine: units waiting elsewhere may fit there now
    while (!work.isEmpty()) {
      String name = work.poll();
      UnitEntry e = units.get(name);
      if (e == null || !e.schedulable() || e.options().global()) {
        targets.put(name, null);
        stopWaiting(name);
        if (e != null) {
          newReasons.put(name, whyNotScheduled(e));
        }
        continue;
      }
      Optional<String> host = cluster.hostOf(name);
      if (host.isPresent()) {
        Optional<Placement.Rejection> no = Placement.check(e.options(), host.get(), cluster);
        if (no.isEmpty()) {
          targets.put(name, host.get());
          newReasons.put(name, "");
          stopWaiting(name);
          continue;
        }
        // it must go; what follows it here may have to go too
        List<String> followers = cluster.followersOf(name);
        cluster.unassign(name);
        freed = true;
        for (String f : followers) {
          if (seen.add(f)) {
            work.add(f);
          }
        }
      }
      toPlace.add(e.options());
    }
    if (freed) {
      toPlace.addAll(waitingOutside(seen));
    }
    for (Decision d : place(toPlace)) {
      if (d instanceof Decision.Place p) {
        targets.put(p.unit(), p.machineId());
        newReasons.put(p.unit(), "");
        stopWaiting(p.unit());
      } else if (d instanceof Decision.Unschedulable u) {
        targets.put(u.unit(), null);
        newReasons.put(u.unit(), u.message());
        startWaiting(u.unit());
      }
    }
    // the last round's write is answered only now, after the placing above: what failed in it is
    // decided again next round, not written from this round's view
    Set<String> failed = new java.util.HashSet<>();
    boolean retry = !finishWrite(failed);
    targets.keySet().removeAll(failed);
    newReasons.keySet().removeAll(failed);
    TreeMap<String, String> changedReasons = new TreeMap<>();
    for (Map.Entry<String, String> r : newReasons.entrySet()) {
      if (!reasons.getOrDefault(r.getKey(), "").equals(r.getValue())) {
        changedReasons.put(r.getKey(), r.getValue());
        if (r.getValue().isEmpty()) {
          reasons.remove(r.getKey());
        } else {
          reasons.put(r.getKey(), r.getValue());
        }
      }
    }
    write(new TreeMap<>(targets), changedReasons); // a unit's reason with its assignment where the registry can
    return retry;
  }

  /**
   * Places a batch, then again the units left unschedulable for as long as that places some: a
   * unit decided early in a batch may fit once later ones displaced others (Replaces=) or moved.
   * Returns the final decision of every unit placed, moved or refused, in order.
   */
  private List<Decision> place(List<XFleetOptions> batch) {
    LinkedHashMap<String, Decision> out = new LinkedHashMap<>();
    TreeSet<String> looked = new TreeSet<>();
    List<XFleetOptions> next = batch;
    for (int pass = 0; pass < 8 && !next.isEmpty(); pass++) {
      next.forEach(u -> looked.add(u.unit()));
      Planner.Plan plan = Planner.place(next, cluster);
      List<XFleetOptions> refused = new ArrayList<>();
      boolean placed = false;
      for (Decision d : plan.decisions().values()) {
        out.remove(d.unit());
        out.put(d.unit(), d);
        if (d instanceof Decision.Place) {
          placed = true;
        } else if (units.get(d.unit()) != null && units.get(d.unit()).options() != null) {
          refused.add(units.get(d.unit()).options());
        }
      }
      next = placed ? refused : new ArrayList<>();
      if (!plan.moved().isEmpty()) {
        // units displaced by Replaces= left room behind them (the replacing unit may need less)
        next.addAll(waitingOutside(looked));
      }
    }
    return new ArrayList<>(out.values());
  }

  /** Options of the waiting units not in {@code except}, still unscheduled and schedulable. */
  private List<XFleetOptions> waitingOutside(Set<String> except) {
    List<XFleetOptions> out = new ArrayList<>();
    for (String w : waiting.keySet()) {
      UnitEntry e = units.get(w);
      if (!except.contains(w) && e != null && e.schedulable() && !e.options().global()
          && cluster.hostOf(w).isEmpty()) {
        out.add(e.options());
      }
    }
    return out;
  }

  private void startWaiting(String unit) {
    UnitEntry e = units.get(unit);
    List<String> targets = e == null || e.options() == null ? List.of() : e.options().machineOf();
    if (waiting.put(unit, targets) == null) {
      for (String target : targets) {
        waitingFollowers.computeIfAbsent(target, t -> new TreeSet<>()).add(unit);
      }
    }
  }

  private void stopWaiting(String unit) {
    List<String> targets = waiting.remove(unit);
    if (targets != null) {
      for (String target : targets) {
        TreeSet<String> f = waitingFollowers.get(target);
        if (f != null && f.remove(unit) && f.isEmpty()) {
          waitingFollowers.remove(target);
        }
      }
    }
  }

  private String whyNotScheduled(UnitEntry e) {
    if (e.invalid() != null) {
      return e.invalid();
    }
    if (e.record().name().isTemplate() || e.record().desiredState() == DesiredState.INACTIVE) {
      return "";
    }
    // global: runs on every machine matching it, or says why on none
    return Placement.global(e.options(), cluster).whyNone().orElse("");
  }

  /**
   * Sends the writes that make the registry say unit → machine (null: unassigned) for every target
   * that differs from it, in one batch (a store writes many per transaction, without reading
   * first), then records {@code reasons}; {@link #finishWrite} takes the answer. None may be in
   * flight.
   */
  /** Schedule writes by target machine, unassignments (no machine) first; stable within one. */
  private static final Comparator<ScheduleWrite> BY_MACHINE =
      Comparator.comparing(ScheduleWrite::machine, Comparator.nullsFirst(Comparator.naturalOrder()));

  private void write(TreeMap<String, String> targets, Map<String, String> reasons) {
    if (pending != null) {
      throw new IllegalStateException("a schedule write is still in flight");
    }
    List<String> unknown = new ArrayList<>(); // assigned, but at a revision not known: read it
    targets.forEach((unit, machine) -> {
      if (!Objects.equals(assigned.get(unit), machine) && !revisions.containsKey(unit) && assigned.containsKey(unit)) {
        unknown.add(unit);
      }
    });
    if (!unknown.isEmpty()) {
      Map<String, Versioned<String>> read = schedule.assignments(unknown);
      unknown.forEach(u -> revisions.put(u, read.containsKey(u) ? read.get(u).modRevision() : 0L));
    }
    List<ScheduleWrite> writes = new ArrayList<>();
    targets.forEach((unit, machine) -> {
      if (Objects.equals(assigned.get(unit), machine)) {
        return;
      }
      UnitEntry e = units.get(unit);
      Versioned<DesiredState> desired = e == null || e.modRevision() <= 0 ? null
          : new Versioned<>(e.record().desiredState(), e.modRevision());
      writes.add(new ScheduleWrite(unit, machine, revisions.getOrDefault(unit, 0L), assigned.get(unit), desired));
    });
    // each machine's writes together (by unit within it, as the targets are): the store cuts the
    // batch into txns in this order, so a machine's share of a burst lands in one or two txns of
    // it instead of a few units in each (300 units over 3 machines, 5 txns: each agent got a share
    // of every txn, and as they committed some ms apart, started its units in two rounds)
    writes.sort(BY_MACHINE);
    if (!writes.isEmpty() || !reasons.isEmpty()) {
      log.debug("engine {}: writing {} schedule changes, {} reasons", id, writes.size(), reasons.size());
      pending = new PendingWrite(targets, schedule.writeLater(writes, reasons));
    }
  }

  private boolean finishWrite() {
    return finishWrite(new java.util.HashSet<>());
  }

  /**
   * Takes the answer of the write in flight, if any, into the view; false if a write failed: what
   * is there is read back, the unit (added to {@code failed}) decided again next round. Then looks
   * at the assignment events that came meanwhile for its units.
   */
  private boolean finishWrite(Set<String> failed) {
    if (pending == null) {
      return true;
    }
    PendingWrite p = pending;
    pending = null;
    List<ScheduleWrite.Outcome> outcomes;
    try {
      outcomes = p.outcomes().join();
    } catch (java.util.concurrent.CompletionException e) {
      // what was written is unknown (and the deferred events go): read everything again
      deferredAssignments.clear();
      fullPassNeeded = true;
      throw e.getCause() instanceof RuntimeException re ? re : e;
    }
    log.debug("engine {}: schedule write answered ({} outcomes)", id, outcomes.size());
    boolean ok = applyOutcomes(p.targets(), outcomes, failed);
    Map<String, Long> deferred = new LinkedHashMap<>(deferredAssignments);
    deferredAssignments.clear();
    assignmentsChanged(deferred);
    return ok;
  }

  private boolean applyOutcomes(Map<String, String> targets, List<ScheduleWrite.Outcome> outcomes, Set<String> failed) {
    int failedBefore = failed.size();
    for (ScheduleWrite.Outcome o : outcomes) {
      String unit = o.unit();
      if (!o.done()) {
        failed.add(unit);
        continue;
      }
      if (o.revision() > 0) {
        assignmentKnownAt.put(unit, o.revision());
      }
      if (targets.get(unit) == null) {
        assigned.remove(unit);
        unassignments++;
        revisions.put(unit, 0L);
      } else {
        assigned.put(unit, targets.get(unit));
        assignments++;
        if (o.revision() > 0) {
          revisions.put(unit, o.revision());
        } else {
          revisions.remove(unit); // learnt from the event, or read before the next write
        }
      }
    }
    if (failed.size() == failedBefore) {
      return true;
    }
    // someone else wrote them, the units are gone, or we no longer lead: read what is there and decide again
    failedWrites += failed.size() - failedBefore;
    Map<String, Versioned<String>> now = schedule.assignments(failed);
    for (String unit : failed) {
      noteAssignment(unit, Optional.ofNullable(now.get(unit)));
      dirty.add(unit);
    }
    clusterChanged = true;
    return false;
  }

  // ---- helpers

  private static UnitEntry entry(Versioned<UnitRecord> v) {
    UnitRecord r = v.value();
    try {
      return new UnitEntry(r, v.modRevision(), XFleetOptions.parse(r.name(), r.file()), null);
    } catch (InvalidUnitException e) {
      return new UnitEntry(r, v.modRevision(), null, "invalid [X-Fleet]: " + String.join("; ", e.problems()));
    }
  }

  static Machine machine(MachineRecord m) {
    return new Machine(m.id(), m.metadata(), m.capacity() == null ? Resources.NONE : m.capacity());
  }

  private static long earliest(long a, long b) {
    return a - b <= 0 ? a : b;
  }
}
