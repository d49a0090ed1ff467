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
import dev.flotilla.kv.client.GetResult;
import dev.flotilla.kv.client.TxnResult;
import dev.flotilla.scheduler.registry.ScheduleWrite;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.IntFunction;

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

  /**
   * Most compares, or ops in one branch, of a txn: etcd's {@code --max-txn-ops} default, which kvd
   * enforces too. Batched reads and writes are cut into txns of at most this many.
   */
  static final int MAX_TXN_OPS = 128;

  /** Bytes of keys and values a batched txn stays under: below etcd's and kvd's default 1.5 MiB requests. */
  static final int MAX_TXN_BYTES = 1 << 20;

  private final StoreClient client;
  private final RegistryKeys keys;
  /** Compares every schedule write also carries (the engine leader's claim); empty: unguarded. */
  private final List<Compare> scheduleGuard;
  /** Run by the watches opened from now on whenever they queue events or break. */
  private volatile Runnable watchSignal = () -> {};
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
   * Makes every watch opened from now on ({@link #watch}, {@link #watchAssignedTo},
   * {@link #watchGlobals}) run {@code signal} on the store client's thread each time it queues
   * events or breaks: the loop that polls them (engine, agent) wakes at once instead of looking
   * every so often. {@code signal} must be quick and must not block (an {@code unpark}).
   */
  public void signalWatchEventsTo(Runnable signal) {
    watchSignal = Objects.requireNonNull(signal);
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
  public Map<String, Versioned<UnitRecord>> units(Collection<String> names) {
    Map<String, Versioned<UnitRecord>> out = new TreeMap<>();
    for (KeyValue kv : getAll(names.stream().map(keys::unit).toList())) {
      out.put(keys.parse(kv.key()).orElseThrow().unit(), new Versioned<>(RegistryCodec.unit(kv.value()), kv.modRevision()));
    }
    return out;
  }

  /** The keys of {@code keys} that exist, read {@value #MAX_TXN_OPS} to a txn. */
  private List<KeyValue> getAll(List<ByteString> keys) {
    List<KeyValue> out = new ArrayList<>();
    for (int from = 0; from < keys.size(); from += MAX_TXN_OPS) {
      List<ByteString> chunk = keys.subList(from, Math.min(keys.size(), from + MAX_TXN_OPS));
      TxnResult r = client.txn(Txn.when().then(chunk.stream().map(k -> Op.get(KeyRange.key(k))).toArray(Op[]::new)));
      for (int i = 0; i < chunk.size(); i++) {
        r.result(i, GetResult.class).first().ifPresent(out::add);
      }
    }
    return out;
  }

  @Override
  public List<Versioned<UnitRecord>> units() {
    return listing().units();
  }

  @Override
  public Listing listing() {
    GetResult r = client.get(keys.units());
    List<Versioned<UnitRecord>> out = new ArrayList<>(r.kvs().size());
    for (KeyValue kv : r.kvs()) {
      out.add(new Versioned<>(RegistryCodec.unit(kv.value()), kv.modRevision()));
    }
    return new Listing(out, r.revision());
  }

  @Override
  public boolean create(UnitRecord unit) {
    ByteString key = keys.unit(unit.name().name());
    return client.txn(Txn.when(Compare.absent(key)).then(creation(unit).toArray(Op[]::new))).succeeded();
  }

  /**
   * Creates the units up to {@value #MAX_TXN_OPS} compares (each "absent", with its puts) or
   * {@value #MAX_TXN_BYTES} bytes to a txn, the txns side by side ({@value #PIPELINE} in flight, as
   * the engine's schedule writes): the store commits the txns queued together, so a burst of 300
   * lands in one commit group, and the engine's watch brings it in one piece instead of one txn's
   * worth at a time. A txn that fails because one name was taken creates nothing, and its units
   * are then created one by one (after the others were answered: a name twice in the list is
   * created once).
   */
  @Override
  public List<Boolean> createAll(List<UnitRecord> units) {
    List<List<UnitRecord>> chunks = new ArrayList<>();
    List<Txn> txns = new ArrayList<>();
    List<UnitRecord> chunk = new ArrayList<>();
    List<Compare> compares = new ArrayList<>();
    List<Op> ops = new ArrayList<>();
    int bytes = 0;
    for (int i = 0; i <= units.size(); i++) {
      List<Op> writes = i == units.size() ? List.of() : creation(units.get(i));
      int size = 0;
      for (Op w : writes) {
        Op.Put p = (Op.Put) w;
        size += p.key().size() + p.value().size();
      }
      if (i == units.size() || compares.size() + 1 > MAX_TXN_OPS || ops.size() + writes.size() > MAX_TXN_OPS
          || bytes + size > MAX_TXN_BYTES) {
        if (!chunk.isEmpty()) {
          chunks.add(chunk);
          txns.add(new Txn(compares, ops, List.of()));
        }
        chunk = new ArrayList<>();
        compares = new ArrayList<>();
        ops = new ArrayList<>();
        bytes = 0;
      }
      if (i < units.size()) {
        bytes += size;
        chunk.add(units.get(i));
        compares.add(Compare.absent(keys.unit(units.get(i).name().name())));
        ops.addAll(writes);
      }
    }
    if (txns.size() == 1) {
      return createdOrOneByOne(chunks.get(0), client.txn(txns.get(0)).succeeded()); // no thread for one
    }
    List<CompletableFuture<TxnResult>> sent = new ArrayList<>(txns.size());
    List<Boolean> succeeded = new ArrayList<>(txns.size());
    for (int i = 0; i < txns.size(); i++) {
      sendAhead(sent, i, txns.size(), txns::get);
      try {
        succeeded.add(result(sent.get(i)).succeeded());
      } catch (RuntimeException e) {
        awaitAll(sent); // none of them may still be on its way when the caller hears of the failure
        throw e;
      }
    }
    List<Boolean> out = new ArrayList<>(units.size());
    for (int i = 0; i < chunks.size(); i++) {
      out.addAll(createdOrOneByOne(chunks.get(i), succeeded.get(i)));
    }
    return out;
  }

  /** All of {@code chunk} created by its txn, or each created (or found taken) on its own. */
  private List<Boolean> createdOrOneByOne(List<UnitRecord> chunk, boolean txnSucceeded) {
    List<Boolean> out = new ArrayList<>(chunk.size());
    for (UnitRecord u : chunk) {
      out.add(txnSucceeded || create(u));
    }
    return out;
  }

  /** The puts that create {@code unit}: its document, and its globals/ entry if it runs globally. */
  private List<Op> creation(UnitRecord unit) {
    List<Op> writes = new ArrayList<>(List.of(Op.put(keys.unit(unit.name().name()), RegistryCodec.unit(unit))));
    if (XFleetOptions.runsGlobally(unit.name(), unit.file())) {
      writes.add(Op.put(keys.global(unit.name().name()), RegistryCodec.desired(unit.desiredState())));
    }
    return writes;
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

  @Override
  public Map<String, Versioned<String>> assignments(Collection<String> units) {
    Map<String, Versioned<String>> out = new TreeMap<>();
    for (KeyValue kv : getAll(units.stream().map(keys::assignment).toList())) {
      out.put(keys.parse(kv.key()).orElseThrow().unit(), new Versioned<>(kv.valueUtf8(), kv.modRevision()));
    }
    return out;
  }

  /** Assignments with the mod revision of each index entry, for compare-and-set callers. */
  @Override
  public Map<String, Versioned<String>> assignmentsWithRevisions() {
    Map<String, Versioned<String>> out = new TreeMap<>();
    for (KeyValue kv : client.get(keys.assignments()).kvs()) {
      keys.parse(kv.key()).ifPresent(p -> out.put(p.unit(), new Versioned<>(kv.valueUtf8(), kv.modRevision())));
    }
    return out;
  }

  @Override
  public boolean assign(String unit, String machineId, long expectedModRevision) {
    return assignAt(unit, machineId, expectedModRevision) > 0;
  }

  /** {@link #assign}, returning the revision it was made at, or 0 when it was not. */
  private long assignAt(String unit, String machineId, long expectedModRevision) {
    ByteString unitKey = keys.unit(unit);
    ByteString indexKey = keys.assignment(unit);
    ByteString entry = keys.scheduled(machineId, unit);
    for (int attempt = 0; attempt < RETRIES; attempt++) {
      var read = client.txn(Txn.when().then(Op.get(KeyRange.key(unitKey)), Op.get(KeyRange.key(indexKey))));
      Optional<KeyValue> unitKv = read.result(0, GetResult.class).first();
      Optional<KeyValue> index = read.result(1, GetResult.class).first();
      long indexRev = index.map(KeyValue::modRevision).orElse(0L);
      if (unitKv.isEmpty() || indexRev != expectedModRevision) {
        return 0; // destroyed, or someone else (re)assigned it
      }
      DesiredState desired = RegistryCodec.unit(unitKv.get().value()).desiredState();
      List<Op> writes = new ArrayList<>(List.of(Op.put(indexKey, ByteString.copyFromUtf8(machineId)),
          Op.put(entry, RegistryCodec.desired(desired))));
      index.filter(i -> !i.valueUtf8().equals(machineId))
          .ifPresent(i -> writes.add(Op.delete(KeyRange.key(keys.scheduled(i.valueUtf8(), unit)))));
      TxnResult r = client.txn(Txn.when(guarded(Compare.unchanged(indexKey, expectedModRevision),
              Compare.unchanged(unitKey, unitKv.get().modRevision())))
          .then(writes.toArray(Op[]::new)));
      if (r.succeeded()) {
        return r.revision();
      }
      if (!guardHolds()) {
        return 0; // no longer the leader
      }
      // the unit document moved (its desired state, so the copy to write): read again
    }
    throw new StoreException(StoreException.Code.UNAVAILABLE,
        unit + " kept changing; not assigned after " + RETRIES + " attempts");
  }

  @Override
  public boolean unassign(String unit, long expectedModRevision) {
    return unassignAt(unit, expectedModRevision) > 0;
  }

  private long unassignAt(String unit, long expectedModRevision) {
    ByteString indexKey = keys.assignment(unit);
    Optional<KeyValue> index = client.get(KeyRange.key(indexKey)).first();
    if (index.isEmpty() || index.get().modRevision() != expectedModRevision) {
      return 0;
    }
    TxnResult r = client.txn(Txn.when(guarded(Compare.unchanged(indexKey, expectedModRevision)))
        .then(Op.delete(KeyRange.key(indexKey)), Op.delete(KeyRange.key(keys.scheduled(index.get().valueUtf8(), unit)))));
    return r.succeeded() ? r.revision() : 0;
  }

  /**
   * Writes the batch in txns of at most {@value #MAX_TXN_OPS} compares and ops, each carrying the
   * schedule guard once: an assignment compares its entry's and its unit document's mod
   * revisions and writes the index entry and the machine's schedule entry (deleting the one on
   * the machine it leaves); an unassignment compares the entry and deletes both. No reads when the
   * writes say what they expect ({@link ScheduleWrite#from}, {@link ScheduleWrite#desired}); a
   * txn that fails applies nothing, and its writes are then made one by one (each reading what it
   * needs), unless the guard no longer holds: then every write left fails.
   */
  @Override
  public List<ScheduleWrite.Outcome> write(List<ScheduleWrite> writes) {
    return write(writes, new TreeMap<>());
  }

  /**
   * {@link #write(List)}, with the reason of each unit written that has one in {@code reasons} put
   * in the same txn as its write (a unit unassigned and why, a unit placed and its old reason gone,
   * seen together); the reasons so written are taken out of {@code reasons}, the rest is left for
   * the caller (units not written, or whose txn failed and were written one by one).
   */
  private List<ScheduleWrite.Outcome> write(List<ScheduleWrite> writes, Map<String, String> reasons) {
    // cut into txns (a write that needs reads first is a batch of its own, made alone)
    List<Batch> batches = new ArrayList<>();
    Batch batch = new Batch();
    for (ScheduleWrite w : writes) {
      List<Compare> c = new ArrayList<>();
      List<Op> o = new ArrayList<>();
      boolean batchable = batchable(w, c, o);
      String reason = reasons.get(w.unit());
      if (batchable && reason != null) {
        o.add(reasonWrite(w.unit(), reason));
      }
      if (!batch.writes.isEmpty() && (!batchable || batch.compares.size() + c.size() > MAX_TXN_OPS
          || batch.ops.size() + o.size() > MAX_TXN_OPS)) {
        batches.add(batch);
        batch = new Batch();
      }
      batch.add(w, batchable ? c : null, o);
      if (!batchable) {
        batches.add(batch);
        batch = new Batch();
      }
    }
    if (!batch.writes.isEmpty()) {
      batches.add(batch);
    }
    List<ScheduleWrite.Outcome> out = new ArrayList<>(writes.size());
    send(batches, out, reasons); // false: deposed, the rest is not tried
    for (int i = out.size(); i < writes.size(); i++) {
      out.add(new ScheduleWrite.Outcome(writes.get(i).unit(), false, 0));
    }
    return out;
  }

  /**
   * {@link #write} and the reasons on another thread (the pipeline's): the caller goes on
   * meanwhile. A unit's reason goes in the txn of its write when it can, the others after.
   */
  @Override
  public CompletableFuture<List<ScheduleWrite.Outcome>> writeLater(List<ScheduleWrite> writes,
      Map<String, String> reasons) {
    List<ScheduleWrite> copy = List.copyOf(writes);
    Map<String, String> reasonsCopy = new TreeMap<>(reasons);
    return CompletableFuture.supplyAsync(() -> {
      List<ScheduleWrite.Outcome> out = write(copy, reasonsCopy);
      if (!reasonsCopy.isEmpty()) {
        setUnscheduledReasons(reasonsCopy);
      }
      return out;
    }, PIPELINE_THREADS);
  }

  /**
   * Txns of a batched write in flight at once (a sliding window: the next is sent as soon as the
   * oldest is answered). The store commits the txns queued together (one log sync, one apply
   * group), and keeps syncing one group while it applies the one before.
   */
  static final int PIPELINE = 8;

  /** Sends the batched txns. */
  private static final ExecutorService PIPELINE_THREADS = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "registry-write-pipeline");
    t.setDaemon(true);
    return t;
  });

  /** Writes gathered for one txn, after the schedule guard's compares; {@code alone}: made by itself. */
  private final class Batch {
    final List<ScheduleWrite> writes = new ArrayList<>();
    final List<Compare> compares = new ArrayList<>(scheduleGuard);
    final List<Op> ops = new ArrayList<>();
    boolean alone;

    void add(ScheduleWrite w, List<Compare> c, List<Op> o) {
      writes.add(w);
      if (c == null) {
        alone = true;
        return;
      }
      compares.addAll(c);
      ops.addAll(o);
    }

    Txn txn() {
      return new Txn(compares, ops, List.of());
    }
  }

  /**
   * Sends the batches' txns, {@value #PIPELINE} in flight at once, and adds their outcomes to
   * {@code out} in order. A txn that succeeded made all its writes at its revision; one that
   * failed made none, and its writes are then made one by one to find which failed — unless the
   * guard failed: then none is (the txns still in flight carry the guard too and fail with it),
   * and this returns false once they were all answered. The batches hold different units, so their txns commute.
   * The reasons a succeeded txn wrote along are taken out of {@code reasons}.
   */
  private boolean send(List<Batch> batches, List<ScheduleWrite.Outcome> out, Map<String, String> reasons) {
    List<CompletableFuture<TxnResult>> sent = new ArrayList<>(batches.size());
    Boolean guard = null;
    for (int i = 0; i < batches.size(); i++) {
      sendAhead(sent, i, batches.size(), k -> batches.get(k).alone ? null : batches.get(k).txn());
      Batch b = batches.get(i);
      TxnResult r = sent.get(i) == null ? null : result(sent.get(i));
      if (r != null && r.succeeded()) {
        b.writes.forEach(w -> {
          out.add(new ScheduleWrite.Outcome(w.unit(), true, r.revision()));
          reasons.remove(w.unit());
        });
        continue;
      }
      if (r != null && guard == null) {
        guard = guardHolds();
      }
      if (Boolean.FALSE.equals(guard)) {
        awaitAll(sent); // nothing of this write may land after it answered
        return false;
      }
      b.writes.forEach(w -> out.add(writeOne(w))); // made alone, or someone else moved one of them
    }
    return true;
  }

  /**
   * The sliding window: sends the txns of {@code count} not sent yet, on the pipeline's threads, until
   * {@value #PIPELINE} are out from {@code next} (the one the caller waits for next) on; {@code txn}
   * gives the k-th txn, null for one not sent at all (its place in {@code sent} is null).
   */
  private void sendAhead(List<CompletableFuture<TxnResult>> sent, int next, int count, IntFunction<Txn> txn) {
    while (sent.size() < count && sent.size() < next + PIPELINE) {
      Txn t = txn.apply(sent.size());
      sent.add(t == null ? null : CompletableFuture.supplyAsync(() -> client.txn(t), PIPELINE_THREADS));
    }
  }

  /**
   * Waits until every txn sent has been answered (or failed): when the guard failed they fail with
   * it, but a caller told "deposed" must not have one of them still on its way to the store.
   */
  private static void awaitAll(List<CompletableFuture<TxnResult>> sent) {
    for (CompletableFuture<TxnResult> f : sent) {
      if (f != null) {
        try {
          f.join();
        } catch (CompletionException | java.util.concurrent.CancellationException e) {
          // its failure does not matter here: the write as a whole is refused
        }
      }
    }
  }

  /** The txn's result, or its failure as the client threw it. */
  private static TxnResult result(CompletableFuture<TxnResult> f) {
    try {
      return f.join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException re ? re : e;
    }
  }

  /** The compares and ops of {@code w} in a batch; false when it needs reads first (knowledge missing). */
  private boolean batchable(ScheduleWrite w, List<Compare> compares, List<Op> ops) {
    ByteString indexKey = keys.assignment(w.unit());
    if (w.expectedModRevision() != 0 && w.from() == null) {
      return false; // the machine it leaves is unknown
    }
    compares.add(Compare.unchanged(indexKey, w.expectedModRevision()));
    if (w.machine() == null) {
      if (w.from() == null) {
        return false; // nothing to unassign: let the single write say so
      }
      ops.add(Op.delete(KeyRange.key(indexKey)));
      ops.add(Op.delete(KeyRange.key(keys.scheduled(w.from(), w.unit()))));
      return true;
    }
    if (w.desired() == null) {
      return false;
    }
    compares.add(Compare.unchanged(keys.unit(w.unit()), w.desired().modRevision()));
    ops.add(Op.put(indexKey, ByteString.copyFromUtf8(w.machine())));
    ops.add(Op.put(keys.scheduled(w.machine(), w.unit()), RegistryCodec.desired(w.desired().value())));
    if (w.from() != null && !w.from().equals(w.machine())) {
      ops.add(Op.delete(KeyRange.key(keys.scheduled(w.from(), w.unit()))));
    }
    return true;
  }

  private ScheduleWrite.Outcome writeOne(ScheduleWrite w) {
    long rev = w.machine() == null ? unassignAt(w.unit(), w.expectedModRevision())
        : assignAt(w.unit(), w.machine(), w.expectedModRevision());
    return new ScheduleWrite.Outcome(w.unit(), rev > 0, rev);
  }

  @Override
  public void setUnscheduledReason(String unit, String reason) {
    client.txn(Txn.when(guarded()).then(reasonWrite(unit, reason)));
  }

  /** The op that records {@code reason} for {@code unit}, or clears it when empty. */
  private Op reasonWrite(String unit, String reason) {
    return reason.isEmpty() ? Op.delete(KeyRange.key(keys.reason(unit)))
        : Op.put(keys.reason(unit), ByteString.copyFromUtf8(reason));
  }

  /** Reasons written {@value #MAX_TXN_OPS} to a txn (minus the guard's compares), each txn guarded. */
  @Override
  public void setUnscheduledReasons(Map<String, String> reasons) {
    List<Op> ops = new ArrayList<>();
    for (Map.Entry<String, String> r : reasons.entrySet()) {
      ops.add(reasonWrite(r.getKey(), r.getValue()));
      if (ops.size() == MAX_TXN_OPS) {
        client.txn(Txn.when(guarded()).then(ops.toArray(Op[]::new)));
        ops.clear();
      }
    }
    if (!ops.isEmpty()) {
      client.txn(Txn.when(guarded()).then(ops.toArray(Op[]::new)));
    }
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
        this::entryEvent, watchSignal);
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
        this::entryEvent, watchSignal);
  }

  /** A schedule or globals entry's event, with the entry's desired state as of it (null: removed). */
  private Optional<RegistryEvent> entryEvent(WatchEvent e) {
    return keys.parse(e.kv().key()).map(p -> {
      if (e.type() != WatchEvent.Type.PUT) {
        return new RegistryEvent.AssignmentChanged(p.unit(), e.revision(), true, null);
      }
      try {
        return new RegistryEvent.AssignmentChanged(p.unit(), e.revision(), true, RegistryCodec.desired(e.kv().value()));
      } catch (IllegalArgumentException unreadable) {
        return new RegistryEvent.AssignmentChanged(p.unit(), e.revision()); // the reader's read says what is wrong
      }
    });
  }

  // ---- the engine's watch

  /** Every unit, assignment and machine change from now on (the engine's {@code Supplier<RegistryWatch>}). */
  public RegistryWatch watch() {
    return watch(revision() + 1);
  }

  /**
   * Every unit, assignment and machine change from {@code fromRevision} on (two store watches:
   * {@link RegistryKeys#engineWatched}; a unit's and its assignment's events may come in either
   * order, which the engine's reads and its writes' guards on the unit's revision allow for).
   */
  public RegistryWatch watch(long fromRevision) {
    return StoreRegistryWatch.open(client, keys.engineWatched(), fromRevision, this::engineEvent, watchSignal);
  }

  private Optional<RegistryEvent> engineEvent(WatchEvent e) {
    boolean put = e.type() == WatchEvent.Type.PUT;
    long rev = e.revision();
    return keys.parse(e.kv().key()).flatMap(p -> switch (p.kind()) {
      // the unit as written, decoded here on the watch's thread rather than read again by the engine
      case UNIT -> Optional.of(put ? new RegistryEvent.UnitChanged(p.unit(), rev,
              new Versioned<>(RegistryCodec.unit(e.kv().value()), e.kv().modRevision()))
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
    return states(keys.states(), 0);
  }

  /** The first {@code limit} states in key order, read with the store's limit: the rest is not sent. */
  @Override
  public List<UnitStateRecord> states(int limit) {
    return limit <= 0 ? List.of() : states(keys.states(), limit);
  }

  /** One prefix read of {@code states/<unit>/}, not of every state. */
  @Override
  public List<UnitStateRecord> statesOf(String unit) {
    if (unit.isEmpty() || unit.indexOf('/') >= 0) {
      return List.of(); // no unit has that name (and it is no key of ours)
    }
    return states(keys.statesOf(unit), 0);
  }

  private List<UnitStateRecord> states(KeyRange range, long limit) {
    List<UnitStateRecord> out = new ArrayList<>();
    for (KeyValue kv : client.get(range, 0, limit).kvs()) {
      out.add(RegistryCodec.state(kv.value()));
    }
    return out;
  }

  /** Stores the state under its machine's presence lease, so it goes when the machine does. */
  @Override
  public void report(UnitStateRecord state) {
    reportAll(List.of(state));
  }

  /**
   * Puts the states {@value #MAX_TXN_OPS} to a txn, each under its machine's presence lease; a txn
   * refused because a lease ran out between reading and writing is sent again with the lease read
   * anew.
   */
  @Override
  public void reportAll(List<UnitStateRecord> states) {
    Map<String, List<UnitStateRecord>> byMachine = new LinkedHashMap<>();
    states.forEach(st -> byMachine.computeIfAbsent(st.machineId(), m -> new ArrayList<>()).add(st));
    byMachine.forEach((machine, all) -> {
      for (int from = 0; from < all.size(); from += MAX_TXN_OPS) {
        putStates(machine, all.subList(from, Math.min(all.size(), from + MAX_TXN_OPS)));
      }
    });
  }

  private void putStates(String machine, List<UnitStateRecord> chunk) {
    for (int attempt = 0; attempt < RETRIES; attempt++) {
      long lease = presenceLease(machine);
      Op[] puts = chunk.stream()
          .map(st -> Op.put(keys.state(st.unit(), machine), RegistryCodec.state(st), lease)).toArray(Op[]::new);
      try {
        client.txn(Txn.when().then(puts));
        return;
      } catch (StoreException e) {
        if (e.code() != StoreException.Code.LEASE_NOT_FOUND) {
          throw e;
        }
        // the machine's lease ran out between reading and writing: read it again
      }
    }
    throw new StoreException(StoreException.Code.UNAVAILABLE, "machine " + machine + " kept losing its lease; "
        + (chunk.size() == 1 ? "state of " + chunk.get(0).unit() : chunk.size() + " states") + " not reported");
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
