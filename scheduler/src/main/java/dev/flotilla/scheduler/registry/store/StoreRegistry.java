package dev.flotilla.scheduler.registry.store;

import com.google.protobuf.ByteString;
import dev.flotilla.kv.client.Compare;
import dev.flotilla.kv.client.KeepAlive;
import dev.flotilla.kv.client.KeyRange;
import dev.flotilla.kv.client.KeyValue;
import dev.flotilla.kv.client.LeaseGrant;
import dev.flotilla.kv.client.Op;
import dev.flotilla.kv.client.StoreClient;
import dev.flotilla.kv.client.StoreException;
import dev.flotilla.kv.client.Txn;
import dev.flotilla.kv.client.WatchEvent;
import dev.flotilla.scheduler.fleet.XFleetOptions;
import dev.flotilla.scheduler.registry.DesiredState;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.MachineRegistry;
import dev.flotilla.scheduler.registry.MachineSchedule;
import dev.flotilla.scheduler.registry.RegistryEvent;
import dev.flotilla.scheduler.registry.RegistryWatch;
import dev.flotilla.scheduler.registry.ScheduleRegistry;
import dev.flotilla.scheduler.registry.UnitRecord;
import dev.flotilla.scheduler.registry.UnitRegistry;
import dev.flotilla.scheduler.registry.UnitStateRecord;
import dev.flotilla.scheduler.registry.UnitStateRegistry;
import dev.flotilla.scheduler.registry.Versioned;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Fleet's registry as keys in the v3 store, through {@link StoreClient} only (so the same code
 * runs on the embedded store, kvd or etcd). The key layout is {@link RegistryKeys}'s.
 *
 * <p>Every write that depends on what was read is a txn comparing the mod revisions it read, so
 * concurrent writers never lose an update: the loser gets {@code false} (or, where the caller's
 * own expectation still holds and only a neighbouring key moved, the registry reads again and
 * retries). A unit's desired state is kept twice — in its unit document, and in its schedule
 * entry so that an agent needs nothing outside its own {@code schedule/<machine>/} — and both
 * copies change in one txn.
 *
 * <p>Machine presence lives under a lease this registry grants and keeps alive for the machine it
 * publishes; the machine's reported unit states hang on the same lease and vanish with it.
 */
public final class StoreRegistry
    implements UnitRegistry, ScheduleRegistry, MachineRegistry, UnitStateRegistry, MachineSchedule, AutoCloseable {

  /** Attempts at a txn whose compares fail only because a neighbouring key moved meanwhile. */
  private static final int RETRIES = 32;

  private final StoreClient client;
  private final RegistryKeys keys;
  /** Compares every schedule write also carries (the engine leader's claim); empty: unguarded. */
  private final List<Compare> scheduleGuard;
  private final Map<String, Presence> presences = new HashMap<>();

  private record Presence(long lease, KeepAlive keepAlive, MachineRecord published) {}

  public StoreRegistry(StoreClient client) {
    this(client, RegistryKeys.DEFAULT_PREFIX);
  }

  public StoreRegistry(StoreClient client, String prefix) {
    this(client, new RegistryKeys(prefix), List.of());
  }

  private StoreRegistry(StoreClient client, RegistryKeys keys, List<Compare> scheduleGuard) {
    this.client = client;
    this.keys = keys;
    this.scheduleGuard = List.copyOf(scheduleGuard);
  }

  /**
   * This registry with every schedule write ({@link #assign}, {@link #unassign},
   * {@link #setUnscheduledReason}) also conditional on {@code guard} — typically the engine
   * leader's key still holding this engine's value or lease — so a deposed leader's late writes
   * fail ({@code false}; a reason is then not recorded) instead of fighting the new leader's.
   */
  public StoreRegistry guardedBy(Compare... guard) {
    return new StoreRegistry(client, keys, List.of(guard));
  }

  private Compare[] guarded(Compare... compares) {
    List<Compare> all = new ArrayList<>(List.of(compares));
    all.addAll(scheduleGuard);
    return all.toArray(Compare[]::new);
  }

  private boolean guardHolds() {
    return scheduleGuard.isEmpty() || client.txn(Txn.when(scheduleGuard.toArray(Compare[]::new))).succeeded();
  }

  public RegistryKeys keys() {
    return keys;
  }

  /** The store's revision now. */
  public long revision() {
    return client.get(KeyRange.key(keys.prefix())).revision();
  }

  // ---- UnitRegistry

  @Override
  public Optional<Versioned<UnitRecord>> unit(String name) {
    return client.get(KeyRange.key(keys.unit(name))).first()
        .map(kv -> new Versioned<>(RegistryCodec.unit(kv.value()), kv.modRevision()));
  }

  @Override
  public List<Versioned<UnitRecord>> units() {
    List<Versioned<UnitRecord>> out = new ArrayList<>();
    for (KeyValue kv : client.get(keys.units()).kvs()) {
      out.add(new Versioned<>(RegistryCodec.unit(kv.value()), kv.modRevision()));
    }
    return out;
  }

  @Override
  public boolean create(UnitRecord unit) {
    ByteString key = keys.unit(unit.name().name());
    List<Op> writes = new ArrayList<>(List.of(Op.put(key, RegistryCodec.unit(unit))));
    if (XFleetOptions.runsGlobally(unit.name(), unit.file())) {
      writes.add(Op.put(keys.global(unit.name().name()), RegistryCodec.desired(unit.desiredState())));
    }
    return client.txn(Txn.when(Compare.absent(key)).then(writes.toArray(Op[]::new))).succeeded();
  }

  @Override
  public boolean setDesiredState(String name, DesiredState state, long expectedModRevision) {
    ByteString unitKey = keys.unit(name);
    ByteString indexKey = keys.assignment(name);
    for (int attempt = 0; attempt < RETRIES; attempt++) {
      var read = client.txn(Txn.when().then(Op.get(KeyRange.key(unitKey)), Op.get(KeyRange.key(indexKey))));
      Optional<KeyValue> unitKv = read.result(0, dev.flotilla.kv.client.GetResult.class).first();
      Optional<KeyValue> index = read.result(1, dev.flotilla.kv.client.GetResult.class).first();
      if (unitKv.isEmpty() || unitKv.get().modRevision() != expectedModRevision) {
        return false;
      }
      UnitRecord r = RegistryCodec.unit(unitKv.get().value());
      if (!r.desiredState().isNeighbour(state)) {
        throw new IllegalArgumentException(name + ": desired state moves one step at a time, not "
            + r.desiredState().json() + " → " + state.json());
      }
      List<Op> writes = new ArrayList<>();
      writes.add(Op.put(unitKey, RegistryCodec.unit(new UnitRecord(r.name(), r.file(), state))));
      index.ifPresent(i -> writes.add(Op.put(keys.scheduled(i.valueUtf8(), name), RegistryCodec.desired(state))));
      if (XFleetOptions.runsGlobally(r.name(), r.file())) {
        writes.add(Op.put(keys.global(name), RegistryCodec.desired(state)));
      }
      boolean ok = client.txn(Txn.when(Compare.unchanged(unitKey, expectedModRevision),
              Compare.unchanged(indexKey, index.map(KeyValue::modRevision).orElse(0L)))
          .then(writes.toArray(Op[]::new))).succeeded();
      if (ok) {
        return true;
      }
      // the unit or its assignment moved: if the unit did, the caller's expectation is stale
    }
    throw new StoreException(StoreException.Code.UNAVAILABLE,
        "the assignment of " + name + " kept changing; desired state not set after " + RETRIES + " attempts");
  }

  @Override
  public boolean destroy(String name) {
    ByteString unitKey = keys.unit(name);
    ByteString indexKey = keys.assignment(name);
    for (int attempt = 0; attempt < RETRIES; attempt++) {
      var read = client.txn(Txn.when().then(Op.get(KeyRange.key(unitKey)), Op.get(KeyRange.key(indexKey))));
      Optional<KeyValue> unitKv = read.result(0, dev.flotilla.kv.client.GetResult.class).first();
      Optional<KeyValue> index = read.result(1, dev.flotilla.kv.client.GetResult.class).first();
      if (unitKv.isEmpty()) {
        return false;
      }
      List<Op> deletes = new ArrayList<>(List.of(Op.delete(KeyRange.key(unitKey)), Op.delete(KeyRange.key(indexKey)),
          Op.delete(KeyRange.key(keys.reason(name))), Op.delete(KeyRange.key(keys.global(name))),
          Op.delete(keys.statesOf(name))));
      index.ifPresent(i -> deletes.add(Op.delete(KeyRange.key(keys.scheduled(i.valueUtf8(), name)))));
      boolean ok = client.txn(Txn.when(Compare.unchanged(unitKey, unitKv.get().modRevision()),
              Compare.unchanged(indexKey, index.map(KeyValue::modRevision).orElse(0L)))
          .then(deletes.toArray(Op[]::new))).succeeded();
      if (ok) {
        return true;
      }
    }
    throw new StoreException(StoreException.Code.UNAVAILABLE,
        name + " kept changing; not destroyed after " + RETRIES + " attempts");
  }

  // ---- ScheduleRegistry

  @Override
  public Optional<Versioned<String>> assignment(String unit) {
    return client.get(KeyRange.key(keys.assignment(unit))).first()
        .map(kv -> new Versioned<>(kv.valueUtf8(), kv.modRevision()));
  }

  @Override
  public Map<String, String> assignments() {
    Map<String, String> out = new TreeMap<>();
    for (KeyValue kv : client.get(keys.assignments()).kvs()) {
      keys.parse(kv.key()).ifPresent(p -> out.put(p.unit(), kv.valueUtf8()));
    }
    return out;
  }

  /** Assignments with the mod revision of each index entry, for compare-and-set callers. */
  public Map<String, Versioned<String>> assignmentsWithRevisions() {
    Map<String, Versioned<String>> out = new TreeMap<>();
    for (KeyValue kv : client.get(keys.assignments()).kvs()) {
      keys.parse(kv.key()).ifPresent(p -> out.put(p.unit(), new Versioned<>(kv.valueUtf8(), kv.modRevision())));
    }
    return out;
  }

  @Override
  public boolean assign(String unit, String machineId, long expectedModRevision) {
    ByteString unitKey = keys.unit(unit);
    ByteString indexKey = keys.assignment(unit);
    ByteString entry = keys.scheduled(machineId, unit);
    for (int attempt = 0; attempt < RETRIES; attempt++) {
      var read = client.txn(Txn.when().then(Op.get(KeyRange.key(unitKey)), Op.get(KeyRange.key(indexKey))));
      Optional<KeyValue> unitKv = read.result(0, dev.flotilla.kv.client.GetResult.class).first();
      Optional<KeyValue> index = read.result(1, dev.flotilla.kv.client.GetResult.class).first();
      long indexRev = index.map(KeyValue::modRevision).orElse(0L);
      if (unitKv.isEmpty() || indexRev != expectedModRevision) {
        return false; // destroyed, or someone else (re)assigned it
      }
      DesiredState desired = RegistryCodec.unit(unitKv.get().value()).desiredState();
      List<Op> writes = new ArrayList<>(List.of(Op.put(indexKey, ByteString.copyFromUtf8(machineId)),
          Op.put(entry, RegistryCodec.desired(desired))));
      index.filter(i -> !i.valueUtf8().equals(machineId))
          .ifPresent(i -> writes.add(Op.delete(KeyRange.key(keys.scheduled(i.valueUtf8(), unit)))));
      boolean ok = client.txn(Txn.when(guarded(Compare.unchanged(indexKey, expectedModRevision),
              Compare.unchanged(unitKey, unitKv.get().modRevision())))
          .then(writes.toArray(Op[]::new))).succeeded();
      if (ok) {
        return true;
      }
      if (!guardHolds()) {
        return false; // no longer the leader
      }
      // the unit document moved (its desired state, so the copy to write): read again
    }
    throw new StoreException(StoreException.Code.UNAVAILABLE,
        unit + " kept changing; not assigned after " + RETRIES + " attempts");
  }

  @Override
  public boolean unassign(String unit, long expectedModRevision) {
    ByteString indexKey = keys.assignment(unit);
    Optional<KeyValue> index = client.get(KeyRange.key(indexKey)).first();
    if (index.isEmpty() || index.get().modRevision() != expectedModRevision) {
      return false;
    }
    return client.txn(Txn.when(guarded(Compare.unchanged(indexKey, expectedModRevision)))
        .then(Op.delete(KeyRange.key(indexKey)), Op.delete(KeyRange.key(keys.scheduled(index.get().valueUtf8(), unit)))))
        .succeeded();
  }

  @Override
  public void setUnscheduledReason(String unit, String reason) {
    Op write = reason.isEmpty() ? Op.delete(KeyRange.key(keys.reason(unit)))
        : Op.put(keys.reason(unit), ByteString.copyFromUtf8(reason));
    client.txn(Txn.when(guarded()).then(write));
  }

  @Override
  public Map<String, String> unscheduledReasons() {
    Map<String, String> out = new TreeMap<>();
    for (KeyValue kv : client.get(keys.reasons()).kvs()) {
      keys.parse(kv.key()).ifPresent(p -> out.put(p.unit(), kv.valueUtf8()));
    }
    return out;
  }

  // ---- MachineSchedule (the agent's side)

  @Override
  public Assigned assignedTo(String machineId) {
    var r = client.get(keys.scheduledOn(machineId));
    Map<String, DesiredState> units = new TreeMap<>();
    for (KeyValue kv : r.kvs()) {
      keys.parse(kv.key()).ifPresent(p -> units.put(p.unit(), RegistryCodec.desired(kv.value())));
    }
    return new Assigned(r.revision(), units);
  }

  @Override
  public RegistryWatch watchAssignedTo(String machineId, long fromRevision) {
    return StoreRegistryWatch.open(client, keys.scheduledOn(machineId), fromRevision,
        e -> keys.parse(e.kv().key()).map(p -> new RegistryEvent.AssignmentChanged(p.unit(), e.revision())));
  }

  @Override
  public Assigned globals() {
    var r = client.get(keys.globals());
    Map<String, DesiredState> units = new TreeMap<>();
    for (KeyValue kv : r.kvs()) {
      keys.parse(kv.key()).ifPresent(p -> units.put(p.unit(), RegistryCodec.desired(kv.value())));
    }
    return new Assigned(r.revision(), units);
  }

  @Override
  public RegistryWatch watchGlobals(long fromRevision) {
    return StoreRegistryWatch.open(client, keys.globals(), fromRevision,
        e -> keys.parse(e.kv().key()).map(p -> new RegistryEvent.AssignmentChanged(p.unit(), e.revision())));
  }

  // ---- the engine's watch

  /** Every unit, assignment and machine change from now on (the engine's {@code Supplier<RegistryWatch>}). */
  public RegistryWatch watch() {
    return watch(revision() + 1);
  }

  /** Every unit, assignment and machine change from {@code fromRevision} on. */
  public RegistryWatch watch(long fromRevision) {
    return StoreRegistryWatch.open(client, keys.all(), fromRevision, this::engineEvent);
  }

  private Optional<RegistryEvent> engineEvent(WatchEvent e) {
    boolean put = e.type() == WatchEvent.Type.PUT;
    long rev = e.revision();
    return keys.parse(e.kv().key()).flatMap(p -> switch (p.kind()) {
      case UNIT -> Optional.of(put ? new RegistryEvent.UnitChanged(p.unit(), rev)
          : new RegistryEvent.UnitRemoved(p.unit(), rev));
      case ASSIGNMENT -> Optional.of(new RegistryEvent.AssignmentChanged(p.unit(), rev));
      case MACHINE -> Optional.of(put ? new RegistryEvent.MachineChanged(p.machine(), rev)
          : new RegistryEvent.MachineGone(p.machine(), rev));
      default -> Optional.empty(); // schedule entries mirror assignments; states and reasons do not drive the engine
    });
  }

  // ---- MachineRegistry

  @Override
  public List<MachineRecord> machines() {
    List<MachineRecord> out = new ArrayList<>();
    for (KeyValue kv : client.get(keys.machines()).kvs()) {
      out.add(RegistryCodec.machine(kv.value()));
    }
    return out;
  }

  @Override
  public Optional<MachineRecord> machine(String id) {
    return client.get(KeyRange.key(keys.machine(id))).first().map(kv -> RegistryCodec.machine(kv.value()));
  }

  /**
   * Publishes the machine under a lease of {@code ttlSeconds} kept alive by this registry; a later
   * call re-publishes only when the record changed or the lease was lost (then under a new
   * lease). A metadata change made meanwhile with {@link #setMetadata} stands until then.
   */
  @Override
  public synchronized boolean publish(MachineRecord machine, long ttlSeconds) {
    Presence p = presences.get(machine.id());
    if (p != null && !p.keepAlive().lost().isDone()) {
      if (p.published().equals(machine)) {
        return false;
      }
      try {
        client.put(keys.machine(machine.id()), RegistryCodec.machine(machine), p.lease());
        presences.put(machine.id(), new Presence(p.lease(), p.keepAlive(), machine));
        return false;
      } catch (StoreException e) {
        if (e.code() != StoreException.Code.LEASE_NOT_FOUND) {
          throw e;
        }
      }
    }
    if (p != null) {
      p.keepAlive().close();
    }
    LeaseGrant lease = client.grant(ttlSeconds);
    KeepAlive ka = client.keepAlive(lease.id());
    try {
      client.put(keys.machine(machine.id()), RegistryCodec.machine(machine), lease.id());
    } catch (RuntimeException e) {
      ka.close();
      presences.remove(machine.id());
      throw e;
    }
    presences.put(machine.id(), new Presence(lease.id(), ka, machine));
    return true;
  }

  /** Ends a machine's presence now (the agent leaves cleanly): its lease, record and unit states go. */
  public synchronized boolean withdraw(String machineId) {
    Presence p = presences.remove(machineId);
    if (p == null) {
      return false;
    }
    p.keepAlive().close();
    try {
      client.revoke(p.lease());
      return true;
    } catch (StoreException e) {
      if (e.code() == StoreException.Code.LEASE_NOT_FOUND) {
        return false;
      }
      throw e;
    }
  }

  @Override
  public boolean setMetadata(String id, Map<String, String> metadata) {
    ByteString key = keys.machine(id);
    for (int attempt = 0; attempt < RETRIES; attempt++) {
      Optional<KeyValue> kv = client.get(KeyRange.key(key)).first();
      if (kv.isEmpty()) {
        return false;
      }
      MachineRecord m = RegistryCodec.machine(kv.get().value());
      MachineRecord changed = m.withMetadata(metadata);
      boolean ok = client.txn(Txn.when(Compare.unchanged(key, kv.get().modRevision()))
          .then(Op.put(key, RegistryCodec.machine(changed), kv.get().lease()))).succeeded();
      if (ok) {
        return true;
      }
    }
    throw new StoreException(StoreException.Code.UNAVAILABLE,
        "machine " + id + " kept changing; metadata not set after " + RETRIES + " attempts");
  }

  // ---- UnitStateRegistry

  @Override
  public List<UnitStateRecord> states() {
    List<UnitStateRecord> out = new ArrayList<>();
    for (KeyValue kv : client.get(keys.states()).kvs()) {
      out.add(RegistryCodec.state(kv.value()));
    }
    return out;
  }

  /** Stores the state under its machine's presence lease, so it goes when the machine does. */
  @Override
  public void report(UnitStateRecord state) {
    ByteString key = keys.state(state.unit(), state.machineId());
    for (int attempt = 0; attempt < RETRIES; attempt++) {
      long lease = presenceLease(state.machineId());
      try {
        client.put(key, RegistryCodec.state(state), lease);
        return;
      } catch (StoreException e) {
        if (e.code() != StoreException.Code.LEASE_NOT_FOUND) {
          throw e;
        }
        // the machine's lease ran out between reading and writing: read it again
      }
    }
    throw new StoreException(StoreException.Code.UNAVAILABLE, "machine " + state.machineId()
        + " kept losing its lease; state of " + state.unit() + " not reported");
  }

  private long presenceLease(String machineId) {
    synchronized (this) {
      Presence p = presences.get(machineId);
      if (p != null && !p.keepAlive().lost().isDone()) {
        return p.lease();
      }
    }
    return client.get(KeyRange.key(keys.machine(machineId))).first().map(KeyValue::lease).orElse(0L);
  }

  @Override
  public void clear(String unit, String machineId) {
    client.delete(KeyRange.key(keys.state(unit, machineId)));
  }

  /** Stops keeping this registry's machines alive (their leases run out); the client stays the caller's. */
  @Override
  public synchronized void close() {
    presences.values().forEach(p -> p.keepAlive().close());
    presences.clear();
  }
}
