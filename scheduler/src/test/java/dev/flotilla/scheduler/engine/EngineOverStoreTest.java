package dev.flotilla.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flotilla.kv.client.KeyRange;
import dev.flotilla.kv.client.KeyValue;
import dev.flotilla.kv.client.StoreClient;
import dev.flotilla.kv.client.StoreTargets;
import dev.flotilla.kv.client.StoreTargets.Kind;
import dev.flotilla.scheduler.api.ApiResponse;
import dev.flotilla.scheduler.api.FleetApi;
import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.registry.DesiredState;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.UnitRecord;
import dev.flotilla.scheduler.registry.Versioned;
import dev.flotilla.scheduler.registry.store.StoreRegistry;
import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitName;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The engine and the API over the real registry in the store (kvd in process, through
 * {@code StoreClient}): the engine's watch is the store's, its writes are the store's
 * transactions. The engine is driven by hand on the real clock; events arrive on the store's
 * threads, so each step polls until the registry shows the outcome (with a deadline).
 */
class EngineOverStoreTest {
  private static final AtomicInteger PREFIXES = new AtomicInteger();
  @RegisterExtension
  static final StoreTargets targets = new StoreTargets();

  @Test
  void placesMovesAndExplainsThroughTheStore() throws Exception {
    StoreRegistry registry = new StoreRegistry(targets.client(Kind.IN_PROCESS_KVD),
        "/engine-test-" + PREFIXES.incrementAndGet() + "/");
    try {
      Engine engine = new Engine("e1", new EngineRegistry(registry, registry, registry, registry::watch),
          new MemoryEngineLease(TimeUnit.SECONDS.toNanos(30)), Engine.Config.defaults());
      registry.publish(new MachineRecord("m1", "10.0.0.1", Map.of("disk", "ssd"), new Resources(2000, 4L << 30), "t"), 30);
      registry.publish(new MachineRecord("m2", "10.0.0.2", Map.of("disk", "ssd"), new Resources(2000, 4L << 30), "t"), 30);
      submit(registry, "web@1.service", "Conflicts=web@*.service\n");
      submit(registry, "web@2.service", "Conflicts=web@*.service\n");
      submit(registry, "side.service", "MachineOf=web@1.service\n");
      submit(registry, "gpu.service", "MachineMetadata=gpu=yes\n");

      runUntil(engine, () -> registry.assignments().size() == 3, "three units placed");
      Map<String, String> s = registry.assignments();
      assertThat(s.get("web@1.service")).isNotEqualTo(s.get("web@2.service"));
      assertThat(s.get("side.service")).isEqualTo(s.get("web@1.service"));
      runUntil(engine, () -> registry.unscheduledReasons().containsKey("gpu.service"), "gpu.service's reason");
      assertThat(registry.unscheduledReasons().get("gpu.service")).isEqualTo("no machine has metadata gpu=yes");

      // the API over the same registry shows it
      FleetApi api = new FleetApi(registry, registry, registry, registry);
      ApiResponse r = api.handle("GET", "/fleet/v1/units/gpu.service", List.of(), new byte[0]);
      JsonNode gpu = new ObjectMapper().readTree(new String(r.body(), StandardCharsets.UTF_8));
      assertThat(gpu.get("unscheduledReason").asText()).isEqualTo("no machine has metadata gpu=yes");

      // web@1's machine leaves: web@1 cannot go where web@2 is, so it and its sidecar wait
      String gone = s.get("web@1.service");
      registry.withdraw(gone);
      // (the assignment and its reason are one txn; the registry reads them one after the other)
      runUntil(engine, () -> !registry.assignments().containsKey("web@1.service")
          && registry.unscheduledReasons().containsKey("web@1.service"), "web@1 off " + gone + ", with its reason");
      assertThat(registry.assignments()).containsOnlyKeys("web@2.service");
      assertThat(registry.unscheduledReasons().get("web@1.service")).contains("conflicts with web@2.service");
      // a machine with room arrives, and the metadata gpu.service needs: everything is placed
      registry.publish(new MachineRecord("m3", "10.0.0.3", Map.of("gpu", "yes"), new Resources(2000, 4L << 30), "t"), 30);
      runUntil(engine, () -> registry.assignments().size() == 4, "all four placed on m3 and the survivor");
      assertThat(registry.assignments()).containsEntry("web@1.service", "m3").containsEntry("side.service", "m3")
          .containsEntry("gpu.service", "m3");
      assertThat(registry.unscheduledReasons()).isEmpty();
    } finally {
      registry.close();
    }
  }

  @Test
  void aBurstsSchedulePutsEachMachinesUnitsInAsFewTxnsAsTheyFill() {
    StoreClient client = targets.client(Kind.IN_PROCESS_KVD);
    String prefix = "/engine-test-" + PREFIXES.incrementAndGet() + "/";
    StoreRegistry registry = new StoreRegistry(client, prefix);
    try {
      Engine engine = new Engine("e1", new EngineRegistry(registry, registry, registry, registry::watch),
          new MemoryEngineLease(TimeUnit.SECONDS.toNanos(30)), Engine.Config.defaults());
      for (String m : List.of("m1", "m2", "m3")) {
        registry.publish(new MachineRecord(m, "10.0.0.1", Map.of(), new Resources(2000, 4L << 30), "t"), 30);
      }
      UnitFile file = UnitFile.parse("[Service]\nExecStart=/bin/true\n");
      List<UnitRecord> burst = new ArrayList<>();
      for (int i = 1; i <= 300; i++) {
        burst.add(new UnitRecord(UnitName.parse("b@" + i + ".service"), file, DesiredState.LAUNCHED));
      }
      assertThat(registry.createAll(burst)).containsOnly(true);

      runUntil(engine, () -> registry.assignments().size() == 300, "300 units placed");
      Map<String, Set<Long>> revisionsByMachine = new TreeMap<>();
      for (KeyValue kv : client.get(KeyRange.prefix(prefix + "schedule/")).kvs()) {
        String machine = kv.key().toStringUtf8().substring((prefix + "schedule/").length()).split("/")[0];
        revisionsByMachine.computeIfAbsent(machine, m -> new TreeSet<>()).add(kv.modRevision());
      }
      assertThat(revisionsByMachine).containsOnlyKeys("m1", "m2", "m3");
      Set<Long> all = new TreeSet<>();
      revisionsByMachine.values().forEach(all::addAll);
      // one write of 300 placements, cut into txns of at most 128 ops: with each machine's units
      // together, a txn boundary splits at most one machine's share (in unit order, every machine
      // had a share of every txn)
      assertThat(all).as("the txns of the write").hasSizeGreaterThanOrEqualTo(3);
      assertThat(revisionsByMachine.values().stream().mapToInt(Set::size).sum()).as("machines' shares of txns")
          .isLessThanOrEqualTo(all.size() + 2);
    } finally {
      registry.close();
    }
  }

  @Test
  void aDeposedLeadersWritesAreFencedByItsLeaseEpoch() {
    StoreClient client = targets.client(Kind.IN_PROCESS_KVD);
    StoreRegistry registry = new StoreRegistry(client, "/engine-test-" + PREFIXES.incrementAndGet() + "/");
    String leaderKey = registry.keys().prefix() + "engine/leader";
    StoreEngineLease leaseA = new StoreEngineLease(client, leaderKey, 30);
    StoreEngineLease leaseB = new StoreEngineLease(client, leaderKey, 30);
    Engine a = new Engine("a", new EngineRegistry(registry, registry, registry, registry::watch, leaseA.fence(registry)),
        leaseA, Engine.Config.defaults());
    Engine b = new Engine("b", new EngineRegistry(registry, registry, registry, registry::watch, leaseB.fence(registry)),
        leaseB, Engine.Config.defaults());
    try {
      registry.publish(new MachineRecord("m1", "10.0.0.1", Map.of(), new Resources(2000, 4L << 30), "t"), 30);
      submit(registry, "first.service", "");
      runUntil(a, () -> registry.assignments().containsKey("first.service"), "a places first.service");
      assertThat(a.isLeader()).isTrue();

      // a is cut off: its leader key goes (as when its lease expires) and b takes over, while a,
      // inside its renewal interval, still believes it leads
      client.delete(dev.flotilla.kv.client.KeyRange.key(StoreClient.bytes(leaderKey)));
      b.reconcile(System.nanoTime());
      assertThat(b.isLeader()).isTrue();
      submit(registry, "second.service", "");
      long failedBefore = a.stats().failedWrites();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (a.stats().failedWrites() == failedBefore && System.nanoTime() < deadline) {
        a.reconcile(System.nanoTime());
        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
      }
      assertThat(a.stats().failedWrites()).as("a's write under its old epoch fails").isGreaterThan(failedBefore);
      assertThat(registry.assignments()).doesNotContainKey("second.service");
      runUntil(b, () -> registry.assignments().containsKey("second.service"), "b places second.service");
    } finally {
      a.close();
      b.close();
      registry.close();
    }
  }

  @Test
  void aSafetyPassOverAStoreThatDidNotMoveReadsOneRevisionNotEveryUnit() {
    StoreRegistry registry = new StoreRegistry(targets.client(Kind.IN_PROCESS_KVD),
        "/engine-test-" + PREFIXES.incrementAndGet() + "/");
    long pass = TimeUnit.SECONDS.toNanos(2);
    Engine engine = new Engine("e1", new EngineRegistry(registry, registry, registry, registry::watch,
        epoch -> registry, registry::revision), new MemoryEngineLease(TimeUnit.SECONDS.toNanos(30)),
        new Engine.Config(pass, Engine.Config.defaults().maxEventsPerPoll()));
    try {
      registry.publish(new MachineRecord("m1", "10.0.0.1", Map.of(), new Resources(2000, 4L << 30), "t"), 30);
      submit(registry, "web@1.service", "");
      runUntil(engine, () -> registry.assignments().size() == 1, "web@1 placed");
      // the engine's own write moved the store: the next safety pass reads everything once
      long now = System.nanoTime();
      engine.reconcile(now + pass);
      Engine.Stats settled = engine.stats();

      // nothing written since: three safety passes, no full read
      for (int i = 2; i <= 4; i++) {
        engine.reconcile(now + i * pass);
      }
      assertThat(engine.stats().fullPasses()).isEqualTo(settled.fullPasses());
      assertThat(engine.stats().quietPasses()).isEqualTo(settled.quietPasses() + 3);

      // any write (an agent's state report) and the next safety pass reads everything again
      registry.report(new dev.flotilla.scheduler.registry.UnitStateRecord("web@1.service", "m1", null, "loaded",
          "active", "running"));
      engine.reconcile(now + 5 * pass);
      assertThat(engine.stats().fullPasses()).isEqualTo(settled.fullPasses() + 1);
      assertThat(registry.assignments()).containsEntry("web@1.service", "m1");
    } finally {
      engine.close();
    }
  }

  /**
   * With a revision check interval longer than the safety pass: passes that find the watch silent
   * ask the store nothing, and a write the watch does not see (outside the registry) is still
   * found by the next revision check, which reads everything again.
   */
  @Test
  void quietSafetyPassesAskTheRevisionOnlyAtTheCheckInterval() {
    StoreClient client = targets.client(Kind.IN_PROCESS_KVD);
    StoreRegistry registry = new StoreRegistry(client, "/engine-test-" + PREFIXES.incrementAndGet() + "/");
    long pass = TimeUnit.SECONDS.toNanos(2);
    AtomicInteger revisionReads = new AtomicInteger();
    Engine engine = new Engine("e1", new EngineRegistry(registry, registry, registry, registry::watch,
        epoch -> registry, () -> {
          revisionReads.incrementAndGet();
          return registry.revision();
        }), new MemoryEngineLease(TimeUnit.SECONDS.toNanos(30)),
        new Engine.Config(pass, Engine.Config.defaults().maxEventsPerPoll(), 5 * pass));
    try {
      registry.publish(new MachineRecord("m1", "10.0.0.1", Map.of(), new Resources(2000, 4L << 30), "t"), 30);
      submit(registry, "web@1.service", "");
      // every round at one time: the first reads everything, the others are not safety passes;
      // until the engine's own write is placed and has come back through its watch
      long now = System.nanoTime();
      long deadline = now + TimeUnit.SECONDS.toNanos(20);
      while ((registry.assignments().size() != 1 || engine.stats().events() == 0) && System.nanoTime() < deadline) {
        engine.reconcile(now);
        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
      }
      assertThat(registry.assignments()).containsOnlyKeys("web@1.service");
      engine.reconcile(now + pass); // the engine's own write came back: one full read
      engine.reconcile(now + 2 * pass); // the watch saw nothing since: quiet from here on
      Engine.Stats settled = engine.stats();
      int reads = revisionReads.get();

      // the last revision read was at the pass at now + pass: the next is due at now + 6 passes
      for (int i = 3; i <= 5; i++) {
        engine.reconcile(now + i * pass);
      }
      assertThat(revisionReads.get()).as("revision reads in three quiet passes").isEqualTo(reads);
      assertThat(engine.stats().quietPasses()).isEqualTo(settled.quietPasses() + 3);

      // a write the watch does not see moves the store: the pass at the check interval reads it all
      client.put(StoreClient.bytes("/outside-the-registry-" + PREFIXES.get()), StoreClient.bytes("x"));
      engine.reconcile(now + 6 * pass);
      assertThat(revisionReads.get()).isEqualTo(reads + 1);
      assertThat(engine.stats().fullPasses()).isEqualTo(settled.fullPasses() + 1);

      // a change the watch sees (once it is in, rounds between passes take it): the next pass,
      // well before the next revision check is due, asks and reads everything
      long events = engine.stats().events();
      submit(registry, "web@2.service", "");
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (engine.stats().events() == events && System.nanoTime() < deadline) {
        engine.reconcile(now + 6 * pass + 1);
        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
      }
      assertThat(engine.stats().events()).as("the new unit's events").isGreaterThan(events);
      engine.reconcile(now + 7 * pass);
      assertThat(revisionReads.get()).isEqualTo(reads + 2);
      assertThat(engine.stats().fullPasses()).isEqualTo(settled.fullPasses() + 2);
    } finally {
      engine.close();
    }
  }

  private static void submit(StoreRegistry registry, String name, String xfleet) {
    UnitFile file = UnitFile.parse("[Service]\nExecStart=/bin/true\n[X-Fleet]\n" + xfleet);
    assertThat(registry.create(new UnitRecord(UnitName.parse(name), file, DesiredState.INACTIVE))).isTrue();
    Versioned<UnitRecord> v = registry.unit(name).orElseThrow();
    assertThat(registry.setDesiredState(name, DesiredState.LOADED, v.modRevision())).isTrue();
  }

  /** Runs engine rounds on the real clock until {@code done}, for at most 20 s. */
  private static void runUntil(Engine engine, BooleanSupplier done, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      engine.reconcile(System.nanoTime());
      if (done.getAsBoolean()) {
        return;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("not within 20 s: " + what);
      }
      java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // let events arrive
    }
  }
}
