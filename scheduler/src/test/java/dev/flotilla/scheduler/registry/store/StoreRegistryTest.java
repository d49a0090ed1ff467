package dev.flotilla.scheduler.registry.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.flotilla.kv.client.KeyRange;
import dev.flotilla.kv.client.StoreClient;
import dev.flotilla.kv.client.StoreTargets;
import dev.flotilla.kv.client.StoreTargets.Kind;
import dev.flotilla.kv.client.WatchEvent;
import dev.flotilla.kv.client.WatchHandle;
import dev.flotilla.kv.client.WatchListener;
import dev.flotilla.kv.client.StoreException;
import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.registry.DesiredState;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.MachineSchedule;
import dev.flotilla.scheduler.registry.RegistryEvent;
import dev.flotilla.scheduler.registry.RegistryWatch;
import dev.flotilla.scheduler.registry.UnitRecord;
import dev.flotilla.scheduler.registry.UnitStateRecord;
import dev.flotilla.scheduler.registry.Versioned;
import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitName;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The registry over the store, through {@link StoreClient}: against kvd in process and against a
 * real etcd 3.4 over jetcd (skipped with a message when etcd is not installed). Each test has
 * its own key prefix.
 */
class StoreRegistryTest {
  private static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(20);
  private static final AtomicInteger PREFIXES = new AtomicInteger();
  @RegisterExtension
  static final StoreTargets targets = new StoreTargets();

  private static StoreRegistry registry(StoreClient client) {
    return new StoreRegistry(client, "/registry-test-" + PREFIXES.incrementAndGet() + "/");
  }

  private static UnitRecord unit(String name, DesiredState state) {
    return new UnitRecord(UnitName.parse(name),
        UnitFile.parse("[Unit]\nDescription=" + name + "\n\n[Service]\nExecStart=/bin/sleep 1000\n\n[X-Fleet]\nConflicts=web@*.service\n"),
        state);
  }

  private static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + WAIT_NANOS;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 20 s: " + what);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // poll interval; the loop re-checks
    }
  }

  /** Polls a registry watch until {@code n} events came (with a deadline), then checks nothing else is queued. */
  private static List<RegistryEvent> take(RegistryWatch w, int n) {
    List<RegistryEvent> got = new ArrayList<>();
    await(() -> {
      got.addAll(w.poll(n - got.size()));
      return got.size() >= n || w.isBroken();
    }, n + " registry events, got " + got);
    assertThat(w.isBroken()).as("watch broken after %s", got).isFalse();
    return got;
  }

  private static String describe(RegistryEvent e) {
    String name;
    if (e instanceof RegistryEvent.UnitChanged u) {
      name = u.unit();
    } else if (e instanceof RegistryEvent.UnitRemoved u) {
      name = u.unit();
    } else if (e instanceof RegistryEvent.AssignmentChanged a) {
      name = a.unit();
    } else if (e instanceof RegistryEvent.MachineChanged m) {
      name = m.machineId();
    } else {
      name = ((RegistryEvent.MachineGone) e).machineId();
    }
    return e.getClass().getSimpleName() + " " + name;
  }

  @ParameterizedTest
  @EnumSource(value = Kind.class, names = {"IN_PROCESS_KVD", "ETCD_OVER_JETCD"})
  void watchesSignalWhenTheyQueueEventsSoThatTheLoopNeedNotPoll(Kind kind) {
    StoreRegistry r = registry(targets.client(kind));
    AtomicInteger signals = new AtomicInteger();
    r.signalWatchEventsTo(signals::incrementAndGet);
    RegistryWatch engine = r.watch();
    RegistryWatch agent = r.watchAssignedTo("m1", r.revision() + 1);
    assertThat(r.create(unit("web@1.service", DesiredState.LAUNCHED))).isTrue();
    await(() -> signals.get() >= 1, "a signal for the engine's watch");
    assertThat(engine.poll(10)).hasSize(1); // the events were queued before the signal
    int before = signals.get();
    r.report(new UnitStateRecord("web@1.service", "m1", null, "loaded", "active", "running"));
    assertThat(r.assign("web@1.service", "m1", 0)).isTrue();
    await(() -> signals.get() >= before + 2, "signals for the assignment, on both watches");
    assertThat(agent.poll(10)).hasSize(1);
    // a state report is nothing either loop looks at: it queued nothing, and signalled nothing
    assertThat(engine.poll(10)).extracting(e -> e.getClass().getSimpleName()).containsOnly("AssignmentChanged");
    assertThat(signals.get()).isEqualTo(before + 2);
    engine.close();
    agent.close();
  }

  @ParameterizedTest
  @EnumSource(value = Kind.class, names = {"IN_PROCESS_KVD", "ETCD_OVER_JETCD"})
  void statesAreReadAsAHeadOrOneUnitsAlone(Kind kind) {
    StoreRegistry r = registry(targets.client(kind));
    List<UnitStateRecord> reported = new ArrayList<>();
    for (String u : List.of("a.service", "b.service", "b.service-x", "c.service")) {
      for (String m : List.of("m1", "m2")) {
        reported.add(new UnitStateRecord(u, m, null, "loaded", "active", "running"));
      }
    }
    r.reportAll(reported);
    List<UnitStateRecord> all = r.states();
    assertThat(all).hasSize(8).containsExactlyInAnyOrderElementsOf(reported);
    assertThat(r.states(3)).isEqualTo(all.subList(0, 3));
    assertThat(r.states(8)).isEqualTo(all);
    assertThat(r.states(100)).isEqualTo(all);
    assertThat(r.states(0)).isEmpty();
    // one unit's prefix only: not the states of b.service-x, whose name b.service begins
    assertThat(r.statesOf("b.service")).extracting(UnitStateRecord::unit, UnitStateRecord::machineId)
        .containsExactly(tuple("b.service", "m1"), tuple("b.service", "m2"));
    assertThat(r.statesOf("nope.service")).isEmpty();
    assertThat(r.statesOf("a/b")).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(value = Kind.class, names = {"IN_PROCESS_KVD", "ETCD_OVER_JETCD"})
  void unitsAreCreatedOnceReadBackAndDestroyedWithEverythingOfTheirs(Kind kind) {
    StoreRegistry r = registry(targets.client(kind));
    UnitRecord web = unit("web@1.service", DesiredState.INACTIVE);
    assertThat(r.create(web)).isTrue();
    assertThat(r.create(unit("web@1.service", DesiredState.LAUNCHED))).as("a second create of the name").isFalse();
    assertThat(r.create(unit("db.service", DesiredState.INACTIVE))).isTrue();

    Versioned<UnitRecord> read = r.unit("web@1.service").orElseThrow();
    assertThat(read.value()).isEqualTo(web);
    assertThat(read.value().file().hash()).isEqualTo(web.file().hash());
    assertThat(r.units()).extracting(v -> v.value().name().name()).containsExactly("db.service", "web@1.service");

    assertThat(r.assign("web@1.service", "m1", 0)).isTrue();
    r.setUnscheduledReason("db.service", "no machine has metadata disk=ssd");
    r.setUnscheduledReason("web@1.service", "stale");
    r.report(new UnitStateRecord("web@1.service", "m1", web.file().hash(), "loaded", "active", "running"));

    assertThat(r.destroy("web@1.service")).isTrue();
    assertThat(r.unit("web@1.service")).isEmpty();
    assertThat(r.assignment("web@1.service")).isEmpty();
    assertThat(r.assignedTo("m1").units()).isEmpty();
    assertThat(r.unscheduledReasons()).isEqualTo(Map.of("db.service", "no machine has metadata disk=ssd"));
    assertThat(r.states()).isEmpty();
    assertThat(r.destroy("web@1.service")).isFalse();
    r.setUnscheduledReason("db.service", "");
    assertThat(r.unscheduledReasons()).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(value = Kind.class, names = {"IN_PROCESS_KVD", "ETCD_OVER_JETCD"})
  void desiredStateMovesOneNeighbourAtATimeAndOnlyFromTheRevisionRead(Kind kind) {
    StoreRegistry r = registry(targets.client(kind));
    r.create(unit("app.service", DesiredState.INACTIVE));
    long rev = r.unit("app.service").orElseThrow().modRevision();
    assertThatThrownBy(() -> r.setDesiredState("app.service", DesiredState.LAUNCHED, rev))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("inactive → launched");
    assertThat(r.setDesiredState("app.service", DesiredState.LOADED, rev)).isTrue();
    assertThat(r.setDesiredState("app.service", DesiredState.LAUNCHED, rev)).as("stale revision").isFalse();
    Versioned<UnitRecord> now = r.unit("app.service").orElseThrow();
    assertThat(now.value().desiredState()).isEqualTo(DesiredState.LOADED);
    assertThat(now.modRevision()).isGreaterThan(rev);
    assertThat(r.setDesiredState("missing.service", DesiredState.LOADED, 0)).isFalse();
  }

  /**
   * Writers on several clients toggle one unit between loaded and launched, each move a
   * compare-and-set on the revision it read. The store's history of the unit key must show every
   * successful move, alternating: a lost update would show two equal states in a row.
   */
  @ParameterizedTest
  @EnumSource(value = Kind.class, names = {"IN_PROCESS_KVD", "ETCD_OVER_JETCD"})
  void concurrentWritersNeverLoseADesiredStateUpdate(Kind kind) throws Exception {
    StoreClient observer = targets.client(kind);
    StoreRegistry first = registry(observer);
    String prefix = first.keys().prefix();
    first.create(unit("toggle.service", DesiredState.LOADED));
    first.assign("toggle.service", "m1", 0);
    long start = first.assignment("toggle.service").orElseThrow().modRevision(); // after create and assign

    List<DesiredState> history = new CopyOnWriteArrayList<>();
    List<DesiredState> agentCopy = new CopyOnWriteArrayList<>();
    int writers = 4;
    int movesEach = 15;
    try (WatchHandle unitKey = observer.watch(KeyRange.key(first.keys().unit("toggle.service")), start + 1,
            collect(e -> history.add(RegistryCodec.unit(e.kv().value()).desiredState())));
        WatchHandle entry = observer.watch(KeyRange.key(first.keys().scheduled("m1", "toggle.service")), start + 1,
            collect(e -> agentCopy.add(RegistryCodec.desired(e.kv().value()))))) {
      ExecutorService pool = Executors.newFixedThreadPool(writers);
      try {
        List<Future<Integer>> done = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
          StoreRegistry mine = new StoreRegistry(targets.client(kind), prefix);
          done.add(pool.submit(() -> {
            int moved = 0;
            int lost = 0;
            while (moved < movesEach) {
              Versioned<UnitRecord> v = mine.unit("toggle.service").orElseThrow();
              DesiredState next = v.value().desiredState() == DesiredState.LOADED ? DesiredState.LAUNCHED : DesiredState.LOADED;
              if (mine.setDesiredState("toggle.service", next, v.modRevision())) {
                moved++;
              } else {
                lost++;
              }
            }
            return lost;
          }));
        }
        int conflicts = 0;
        for (Future<Integer> f : done) {
          conflicts += f.get(60, TimeUnit.SECONDS);
        }
        int total = writers * movesEach;
        await(() -> history.size() >= total && agentCopy.size() >= total, total + " moves in the watches");
        assertThat(history).hasSize(total);
        for (int i = 0; i < total; i++) {
          assertThat(history.get(i)).as("move %d of %s (%d conflicts)", i, history, conflicts)
              .isEqualTo(i % 2 == 0 ? DesiredState.LAUNCHED : DesiredState.LOADED);
        }
        assertThat(agentCopy).as("the schedule entry's copy changes with the unit").isEqualTo(history);
        assertThat(first.assignedTo("m1").units()).isEqualTo(Map.of("toggle.service", DesiredState.LOADED));
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @ParameterizedTest
  @EnumSource(value = Kind.class, names = {"IN_PROCESS_KVD", "ETCD_OVER_JETCD"})
  void assignmentsMoveTheScheduleEntryBetweenMachines(Kind kind) {
    StoreRegistry r = registry(targets.client(kind));
    r.create(unit("api.service", DesiredState.LAUNCHED));
    assertThat(r.assign("ghost.service", "m1", 0)).as("a unit that does not exist").isFalse();
    assertThat(r.assign("api.service", "m1", 0)).isTrue();
    assertThat(r.assign("api.service", "m2", 0)).as("someone assigned it meanwhile").isFalse();
    Versioned<String> a = r.assignment("api.service").orElseThrow();
    assertThat(a.value()).isEqualTo("m1");
    assertThat(r.assignedTo("m1").units()).isEqualTo(Map.of("api.service", DesiredState.LAUNCHED));

    assertThat(r.assign("api.service", "m2", a.modRevision())).isTrue();
    assertThat(r.assignedTo("m1").units()).isEmpty();
    assertThat(r.assignedTo("m2").units()).isEqualTo(Map.of("api.service", DesiredState.LAUNCHED));
    assertThat(r.assignments()).isEqualTo(Map.of("api.service", "m2"));

    long rev = r.assignment("api.service").orElseThrow().modRevision();
    assertThat(r.unassign("api.service", a.modRevision())).as("stale revision").isFalse();
    assertThat(r.unassign("api.service", rev)).isTrue();
    assertThat(r.assignedTo("m2").units()).isEmpty();
    assertThat(r.assignments()).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(value = Kind.class, names = {"IN_PROCESS_KVD", "ETCD_OVER_JETCD"})
  void aDeposedLeadersScheduleWritesFail(Kind kind) {
    StoreClient client = targets.client(kind);
    StoreRegistry r = registry(client);
    var leaderKey = StoreClient.bytes(r.keys().prefix() + "engine-leader");
    client.put(leaderKey, StoreClient.bytes("engine-1"));
    StoreRegistry asLeader = r.guardedBy(
        dev.flotilla.kv.client.Compare.value(leaderKey, dev.flotilla.kv.client.Compare.Result.EQUAL, StoreClient.bytes("engine-1")));
    r.create(unit("a.service", DesiredState.LOADED));
    r.create(unit("b.service", DesiredState.LOADED));
    assertThat(asLeader.assign("a.service", "m1", 0)).isTrue();
    asLeader.setUnscheduledReason("b.service", "no machines in the cluster");

    client.put(leaderKey, StoreClient.bytes("engine-2")); // another engine took over
    assertThat(asLeader.assign("b.service", "m1", 0)).isFalse();
    assertThat(asLeader.unassign("a.service", r.assignment("a.service").orElseThrow().modRevision())).isFalse();
    asLeader.setUnscheduledReason("b.service", "");
    assertThat(r.assignments()).isEqualTo(Map.of("a.service", "m1"));
    assertThat(r.unscheduledReasons()).isEqualTo(Map.of("b.service", "no machines in the cluster"));
  }

  @ParameterizedTest
  @EnumSource(value = Kind.class, names = {"IN_PROCESS_KVD", "ETCD_OVER_JETCD"})
  void anAgentWatchSeesOnlyItsOwnMachinesEntries(Kind kind) {
    StoreRegistry engine = registry(targets.client(kind));
    StoreRegistry agent = new StoreRegistry(targets.client(kind), engine.keys().prefix());
    engine.create(unit("mine.service", DesiredState.INACTIVE));
    engine.create(unit("other.service", DesiredState.INACTIVE));
    engine.create(unit("last.service", DesiredState.INACTIVE));
    MachineSchedule.Assigned before = agent.assignedTo("m1");
    assertThat(before.units()).isEmpty();

    try (RegistryWatch w = agent.watchAssignedTo("m1", before.revision() + 1)) {
      engine.assign("other.service", "m2", 0);
      engine.assign("mine.service", "m1", 0);
      engine.setDesiredState("other.service", DesiredState.LOADED, engine.unit("other.service").orElseThrow().modRevision());
      engine.setDesiredState("mine.service", DesiredState.LOADED, engine.unit("mine.service").orElseThrow().modRevision());
      engine.destroy("other.service");
      engine.unassign("mine.service", engine.assignment("mine.service").orElseThrow().modRevision());
      engine.assign("last.service", "m1", 0); // the last change: everything before it has arrived once it has

      List<RegistryEvent> got = take(w, 4);
      assertThat(got).extracting(StoreRegistryTest::describe).containsExactly(
          "AssignmentChanged mine.service", "AssignmentChanged mine.service", "AssignmentChanged mine.service",
          "AssignmentChanged last.service");
      assertThat(got).extracting(RegistryEvent::revision).isSorted();
    }
    assertThat(agent.assignedTo("m1").units()).isEqualTo(Map.of("last.service", DesiredState.INACTIVE));
  }

  @ParameterizedTest
  @EnumSource(value = Kind.class, names = {"IN_PROCESS_KVD", "ETCD_OVER_JETCD"})
  void globalUnitsAreIndexedApartAndWatchedByAgents(Kind kind) {
    StoreRegistry registry = registry(targets.client(kind));
    UnitRecord everywhere = new UnitRecord(UnitName.parse("log.service"),
        UnitFile.parse("[Service]\nExecStart=/bin/sleep 1000\n\n[X-Fleet]\nGlobal=true\nMachineMetadata=role=web\n"),
        DesiredState.INACTIVE);
    UnitRecord template = new UnitRecord(UnitName.parse("g@.service"),
        UnitFile.parse("[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nGlobal=true\n"), DesiredState.INACTIVE);
    MachineSchedule.Assigned before = registry.globals();
    assertThat(before.units()).isEmpty();

    try (RegistryWatch w = registry.watchGlobals(before.revision() + 1)) {
      assertThat(registry.create(unit("plain.service", DesiredState.INACTIVE))).isTrue();
      assertThat(registry.create(template)).isTrue();
      assertThat(registry.create(everywhere)).isTrue();
      assertThat(registry.globals().units()).isEqualTo(Map.of("log.service", DesiredState.INACTIVE));
      registry.setDesiredState("plain.service", DesiredState.LOADED, registry.unit("plain.service").orElseThrow().modRevision());
      registry.setDesiredState("log.service", DesiredState.LOADED, registry.unit("log.service").orElseThrow().modRevision());
      assertThat(registry.globals().units()).isEqualTo(Map.of("log.service", DesiredState.LOADED));
      registry.destroy("log.service");
      registry.destroy("plain.service");
      assertThat(registry.globals().units()).isEmpty();

      List<RegistryEvent> got = take(w, 3);
      assertThat(got).extracting(StoreRegistryTest::describe).containsExactly(
          "AssignmentChanged log.service", "AssignmentChanged log.service", "AssignmentChanged log.service");
    }
  }

  @ParameterizedTest
  @EnumSource(value = Kind.class, names = {"IN_PROCESS_KVD", "ETCD_OVER_JETCD"})
  void machinePresenceAndItsUnitStatesLastAsLongAsTheAgentsLease(Kind kind) {
    StoreRegistry engine = registry(targets.client(kind));
    StoreRegistry agent = new StoreRegistry(targets.client(kind), engine.keys().prefix());
    MachineRecord m1 = new MachineRecord("m1", "10.0.0.1", Map.of("region", "eu"), new Resources(2000, 4L << 30), "0.1");
    try (RegistryWatch w = engine.watch()) {
      agent.publish(m1, 2);
      agent.publish(m1, 2); // unchanged: nothing written
      assertThat(engine.machines()).containsExactly(m1);
      agent.report(new UnitStateRecord("web.service", "m1", null, "loaded", "active", "running"));
      assertThat(engine.states()).extracting(UnitStateRecord::activeState).containsExactly("active");

      assertThat(engine.setMetadata("m1", Map.of("region", "us"))).isTrue();
      assertThat(engine.machine("m1").orElseThrow().metadata()).isEqualTo(Map.of("region", "us"));
      assertThat(engine.setMetadata("m9", Map.of())).isFalse();

      agent.close(); // the agent stops renewing: its lease runs out
      await(() -> engine.machine("m1").isEmpty(), "machine m1 to vanish with its lease");
      assertThat(engine.states()).as("unit states go with the machine's lease").isEmpty();
      assertThat(take(w, 3)).extracting(StoreRegistryTest::describe)
          .containsExactly("MachineChanged m1", "MachineChanged m1", "MachineGone m1");
    }

    StoreRegistry leaving = new StoreRegistry(targets.client(kind), engine.keys().prefix());
    leaving.publish(new MachineRecord("m2", "10.0.0.2", Map.of(), Resources.NONE, "0.1"), 30);
    assertThat(engine.machine("m2")).isPresent();
    assertThat(leaving.withdraw("m2")).isTrue();
    assertThat(engine.machine("m2")).as("withdrawn at once, not after 30 s").isEmpty();
  }

  @ParameterizedTest
  @EnumSource(value = Kind.class, names = {"IN_PROCESS_KVD", "ETCD_OVER_JETCD"})
  void theEngineWatchReportsUnitsAssignmentsAndBreaksOnCompaction(Kind kind) {
    StoreClient client = targets.client(kind);
    StoreRegistry r = registry(client);
    long from = r.revision() + 1;
    try (RegistryWatch w = r.watch(from)) {
      r.create(unit("a.service", DesiredState.INACTIVE));
      r.setUnscheduledReason("a.service", "no machines in the cluster"); // not an engine event
      r.assign("a.service", "m1", 0);
      r.destroy("a.service");
      // units and assignments are two store watches: each kind in order, the two in arrival order
      List<String> seen = take(w, 4).stream().map(StoreRegistryTest::describe).toList();
      assertThat(seen).filteredOn(e -> e.startsWith("Unit")).containsExactly("UnitChanged a.service", "UnitRemoved a.service");
      assertThat(seen).filteredOn(e -> e.startsWith("Assignment"))
          .containsExactly("AssignmentChanged a.service", "AssignmentChanged a.service");
      // the reason, the schedule entry and a state report are not sent to the engine at all
      r.report(new UnitStateRecord("b.service", "m1", null, "loaded", "active", "running"));
      r.create(unit("c.service", DesiredState.INACTIVE));
      assertThat(take(w, 1)).extracting(StoreRegistryTest::describe).containsExactly("UnitChanged c.service");
      assertThat(w.changesSeen()).isEqualTo(5);
    }
    r.create(unit("b.service", DesiredState.INACTIVE));
    long now = r.revision();
    client.compact(now);
    try (RegistryWatch w = r.watch(from)) {
      await(w::isBroken, "a watch from before the compaction to break");
      assertThat(w.poll(10)).isEmpty();
    }
    assertThatThrownBy(() -> client.get(KeyRange.prefix(r.keys().prefix()), from))
        .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.code()).isEqualTo(StoreException.Code.COMPACTED));
  }

  private static WatchListener collect(java.util.function.Consumer<WatchEvent> each) {
    return new WatchListener() {
      @Override
      public void onEvents(List<WatchEvent> events) {
        events.forEach(each);
      }

      @Override
      public void onCompacted(long compactRevision) {
        throw new AssertionError("compacted at " + compactRevision);
      }

      @Override
      public void onError(StoreException error) {
        throw new AssertionError(error);
      }
    };
  }
}
