package dev.flotilla.scheduler.registry.memory;

import dev.flotilla.scheduler.fleet.XFleetOptions;
import dev.flotilla.scheduler.registry.DesiredState;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.MachineRegistry;
import dev.flotilla.scheduler.registry.MachineSchedule;
import dev.flotilla.scheduler.registry.RegistryEvent;
import dev.flotilla.scheduler.registry.RegistryWatch;
import dev.flotilla.scheduler.registry.ScheduleRegistry;
import dev.flotilla.scheduler.registry.ScheduleWrite;
import dev.flotilla.scheduler.registry.UnitRecord;
import dev.flotilla.scheduler.registry.UnitRegistry;
import dev.flotilla.scheduler.registry.UnitStateRecord;
import dev.flotilla.scheduler.registry.UnitStateRegistry;
import dev.flotilla.scheduler.registry.Versioned;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * The deterministic twin of the registry over the store, for simulations and API tests: every
 * registry interface over one revision counter, machine presence that expires by a clock the test
 * owns, and watches that queue events in revision order.
 *
 * <p>Presence expiry is evaluated lazily against the clock at every call (and by {@link #expire}):
 * a machine whose agent stopped publishing is gone, with a {@link RegistryEvent.MachineGone}, as
 * soon as anyone looks after its lease ran out, as with a store lease. Its reported unit states go
 * with it (they live under the agent's lease). Thread-safe: the API server calls it from its event
 * loops while a test drives the engine.
 */
public final class MemoryRegistry
    implements UnitRegistry, ScheduleRegistry, MachineRegistry, UnitStateRegistry, MachineSchedule {

  private record Presence(MachineRecord machine, long expiresAtNanos) {}

  /** A change to what one machine runs (for agents' watches from a past revision). */
  private record MachineChange(String machineId, RegistryEvent.AssignmentChanged event) {}

  /** The machine-change log's name for global units (no machine ID is empty). */
  private static final String GLOBALS = "";

  private final LongSupplier clock;
  private long revision;
  private final TreeMap<String, Versioned<UnitRecord>> units = new TreeMap<>();
  private final TreeMap<String, Versioned<String>> schedule = new TreeMap<>();
  private final TreeMap<String, String> reasons = new TreeMap<>();
  private final TreeMap<String, Presence> machines = new TreeMap<>();
  /** unit → machine → state. */
  private final TreeMap<String, TreeMap<String, UnitStateRecord>> states = new TreeMap<>();
  private final List<Watch> watches = new ArrayList<>();
  private final List<MachineChange> machineLog = new ArrayList<>();
  private final int watchCapacity;
  private long writes;

  /** @param clock nanoseconds, the clock machine leases expire by */
  public MemoryRegistry(LongSupplier clock) {
    this(clock, 1 << 20);
  }

  /** @param watchCapacity events a watch holds before it breaks (as if compacted past it) */
  public MemoryRegistry(LongSupplier clock, int watchCapacity) {
    this.clock = Objects.requireNonNull(clock);
    this.watchCapacity = watchCapacity;
  }

  /** The revision of the last change. */
  public synchronized long revision() {
    return revision;
  }

  /** Successful writes so far (creates, state changes, assignments, reasons, presence changes). */
  public synchronized long writes() {
    return writes;
  }

  /** A watch that sees every change from now on. */
  public synchronized RegistryWatch watch() {
    Watch w = new Watch(null);
    watches.add(w);
    return w;
  }

  /** Breaks every open watch, as a compaction past their revision would. */
  public synchronized void breakWatches() {
    for (Watch w : watches) {
      w.broken = true;
      w.events.clear();
    }
  }

  /** Ends the presence of machines whose lease ran out by the clock's now. */
  public synchronized void expire() {
    long now = clock.getAsLong();
    Iterator<Map.Entry<String, Presence>> it = machines.entrySet().iterator();
    List<String> gone = new ArrayList<>();
    while (it.hasNext()) {
      Map.Entry<String, Presence> e = it.next();
      if (now - e.getValue().expiresAtNanos() >= 0) {
        gone.add(e.getKey()); // before remove(): a TreeMap entry may take its successor's key
        it.remove();
      }
    }
    for (String id : gone) {
      dropStatesOf(id);
      emit(new RegistryEvent.MachineGone(id, ++revision));
    }
  }

  /** The machine leaves at once (its agent revoked its lease). */
  public synchronized boolean leave(String machineId) {
    if (machines.remove(machineId) == null) {
      return false;
    }
    dropStatesOf(machineId);
    emit(new RegistryEvent.MachineGone(machineId, ++revision));
    return true;
  }

  // ---- UnitRegistry

  @Override
  public synchronized Optional<Versioned<UnitRecord>> unit(String name) {
    return Optional.ofNullable(units.get(name));
  }

  @Override
  public synchronized List<Versioned<UnitRecord>> units() {
    return List.copyOf(units.values());
  }

  @Override
  public synchronized boolean create(UnitRecord unit) {
    String name = unit.name().name();
    if (units.containsKey(name)) {
      return false;
    }
    units.put(name, new Versioned<>(unit, ++revision));
    emit(new RegistryEvent.UnitChanged(name, revision));
    emitGlobal(unit);
    return true;
  }

  @Override
  public synchronized boolean setDesiredState(String name, DesiredState state, long expectedModRevision) {
    Versioned<UnitRecord> v = units.get(name);
    if (v == null || v.modRevision() != expectedModRevision) {
      return false;
    }
    DesiredState from = v.value().desiredState();
    if (!from.isNeighbour(state)) {
      throw new IllegalArgumentException(name + ": desired state moves one step at a time, not " + from.json()
          + " → " + state.json());
    }
    UnitRecord r = v.value();
    units.put(name, new Versioned<>(new UnitRecord(r.name(), r.file(), state), ++revision));
    emit(new RegistryEvent.UnitChanged(name, revision));
    Versioned<String> host = schedule.get(name);
    if (host != null) {
      emitFor(host.value(), name);
    }
    emitGlobal(r);
    return true;
  }

  @Override
  public synchronized boolean destroy(String name) {
    Versioned<UnitRecord> gone = units.remove(name);
    if (gone == null) {
      return false;
    }
    emit(new RegistryEvent.UnitRemoved(name, ++revision));
    Versioned<String> host = schedule.remove(name);
    if (host != null) {
      emit(new RegistryEvent.AssignmentChanged(name, revision));
      emitFor(host.value(), name);
    }
    reasons.remove(name);
    states.remove(name);
    emitGlobal(gone.value());
    return true;
  }

  // ---- ScheduleRegistry

  @Override
  public synchronized Optional<Versioned<String>> assignment(String unit) {
    return Optional.ofNullable(schedule.get(unit));
  }

  @Override
  public synchronized Map<String, String> assignments() {
    Map<String, String> out = new TreeMap<>();
    schedule.forEach((u, v) -> out.put(u, v.value()));
    return out;
  }

  @Override
  public synchronized Map<String, Versioned<String>> assignmentsWithRevisions() {
    return new TreeMap<>(schedule);
  }

  @Override
  public synchronized boolean assign(String unit, String machineId, long expectedModRevision) {
    Versioned<String> cur = schedule.get(unit);
    long at = cur == null ? 0 : cur.modRevision();
    if (at != expectedModRevision) {
      return false;
    }
    if (!units.containsKey(unit)) {
      return false; // the unit was destroyed: nothing to assign (a store txn compares its key too)
    }
    schedule.put(unit, new Versioned<>(machineId, ++revision));
    emit(new RegistryEvent.AssignmentChanged(unit, revision));
    if (cur != null && !cur.value().equals(machineId)) {
      emitFor(cur.value(), unit);
    }
    emitFor(machineId, unit);
    return true;
  }

  @Override
  public synchronized boolean unassign(String unit, long expectedModRevision) {
    Versioned<String> cur = schedule.get(unit);
    if (cur == null || cur.modRevision() != expectedModRevision) {
      return false;
    }
    schedule.remove(unit);
    emit(new RegistryEvent.AssignmentChanged(unit, ++revision));
    emitFor(cur.value(), unit);
    return true;
  }

  /** The writes and the reasons under one hold of the registry: no reader sees one without the other. */
  @Override
  public synchronized CompletableFuture<List<ScheduleWrite.Outcome>> writeLater(List<ScheduleWrite> writes,
      Map<String, String> reasons) {
    return ScheduleRegistry.super.writeLater(writes, reasons);
  }

  @Override
  public synchronized void setUnscheduledReason(String unit, String reason) {
    writes++;
    if (reason.isEmpty()) {
      reasons.remove(unit);
    } else {
      reasons.put(unit, reason);
    }
  }

  @Override
  public synchronized Map<String, String> unscheduledReasons() {
    return new TreeMap<>(reasons);
  }

  // ---- MachineRegistry

  @Override
  public synchronized List<MachineRecord> machines() {
    expire();
    List<MachineRecord> out = new ArrayList<>(machines.size());
    machines.values().forEach(p -> out.add(p.machine()));
    return out;
  }

  @Override
  public synchronized Optional<MachineRecord> machine(String id) {
    expire();
    Presence p = machines.get(id);
    return p == null ? Optional.empty() : Optional.of(p.machine());
  }

  @Override
  public synchronized boolean publish(MachineRecord machine, long ttlSeconds) {
    expire();
    long expiresAt = clock.getAsLong() + ttlSeconds * 1_000_000_000L;
    Presence old = machines.put(machine.id(), new Presence(machine, expiresAt));
    if (old == null || !old.machine().equals(machine)) {
      emit(new RegistryEvent.MachineChanged(machine.id(), ++revision));
    }
    return old == null;
  }

  @Override
  public synchronized boolean setMetadata(String id, Map<String, String> metadata) {
    expire();
    Presence p = machines.get(id);
    if (p == null) {
      return false;
    }
    MachineRecord m = p.machine();
    MachineRecord changed = m.withMetadata(metadata);
    machines.put(id, new Presence(changed, p.expiresAtNanos()));
    if (!changed.equals(m)) {
      emit(new RegistryEvent.MachineChanged(id, ++revision));
    }
    return true;
  }

  // ---- MachineSchedule

  @Override
  public synchronized Assigned assignedTo(String machineId) {
    Map<String, DesiredState> out = new TreeMap<>();
    schedule.forEach((u, v) -> {
      if (v.value().equals(machineId)) {
        out.put(u, units.get(u).value().desiredState());
      }
    });
    return new Assigned(revision, out);
  }

  @Override
  public synchronized RegistryWatch watchAssignedTo(String machineId, long fromRevision) {
    Watch w = new Watch(machineId);
    for (MachineChange c : machineLog) {
      if (c.machineId().equals(machineId) && c.event().revision() >= fromRevision) {
        w.events.add(c.event());
      }
    }
    watches.add(w);
    return w;
  }

  @Override
  public synchronized Assigned globals() {
    Map<String, DesiredState> out = new TreeMap<>();
    units.forEach((u, v) -> {
      if (XFleetOptions.runsGlobally(v.value().name(), v.value().file())) {
        out.put(u, v.value().desiredState());
      }
    });
    return new Assigned(revision, out);
  }

  @Override
  public synchronized RegistryWatch watchGlobals(long fromRevision) {
    return watchAssignedTo(GLOBALS, fromRevision);
  }

  /** Tells the agents' global watches that a global unit was submitted, changed or destroyed. */
  private void emitGlobal(UnitRecord unit) {
    if (XFleetOptions.runsGlobally(unit.name(), unit.file())) {
      emitFor(GLOBALS, unit.name().name());
    }
  }

  // ---- UnitStateRegistry

  @Override
  public synchronized List<UnitStateRecord> states() {
    expire();
    List<UnitStateRecord> out = new ArrayList<>();
    states.values().forEach(byMachine -> out.addAll(byMachine.values()));
    return out;
  }

  @Override
  public synchronized void report(UnitStateRecord state) {
    writes++;
    states.computeIfAbsent(state.unit(), u -> new TreeMap<>()).put(state.machineId(), state);
  }

  @Override
  public synchronized void clear(String unit, String machineId) {
    TreeMap<String, UnitStateRecord> byMachine = states.get(unit);
    if (byMachine != null && byMachine.remove(machineId) != null) {
      writes++;
      if (byMachine.isEmpty()) {
        states.remove(unit);
      }
    }
  }

  // ---- internals

  private void dropStatesOf(String machineId) {
    Iterator<TreeMap<String, UnitStateRecord>> it = states.values().iterator();
    while (it.hasNext()) {
      TreeMap<String, UnitStateRecord> byMachine = it.next();
      byMachine.remove(machineId);
      if (byMachine.isEmpty()) {
        it.remove();
      }
    }
  }

  private void emit(RegistryEvent e) {
    writes++;
    for (Watch w : watches) {
      if (w.broken || w.machine != null) {
        continue;
      }
      if (w.events.size() >= watchCapacity) {
        w.broken = true; // fell behind: as a compaction past the watch's revision
        w.events.clear();
      } else {
        w.events.add(e);
      }
    }
  }

  /** Tells the agents' watches of {@code machineId} that {@code unit} changed there, at the current revision. */
  private void emitFor(String machineId, String unit) {
    RegistryEvent.AssignmentChanged e = new RegistryEvent.AssignmentChanged(unit, revision);
    machineLog.add(new MachineChange(machineId, e));
    for (Watch w : watches) {
      if (!w.broken && machineId.equals(w.machine)) {
        w.events.add(e);
      }
    }
  }

  private final class Watch implements RegistryWatch {
    /** Null: every change (the engine's); else only what changes on this machine (an agent's). */
    final String machine;
    final ArrayDeque<RegistryEvent> events = new ArrayDeque<>();
    boolean broken;

    Watch(String machine) {
      this.machine = machine;
    }

    @Override
    public List<RegistryEvent> poll(int max) {
      synchronized (MemoryRegistry.this) {
        expire();
        List<RegistryEvent> out = new ArrayList<>(Math.min(max, events.size()));
        while (out.size() < max && !events.isEmpty()) {
          out.add(events.poll());
        }
        return out;
      }
    }

    @Override
    public boolean isBroken() {
      synchronized (MemoryRegistry.this) {
        return broken;
      }
    }

    @Override
    public void close() {
      synchronized (MemoryRegistry.this) {
        watches.remove(this);
        events.clear();
      }
    }
  }
}
