package dev.flotilla.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.registry.DesiredState;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.UnitRecord;
import dev.flotilla.scheduler.registry.Versioned;
import dev.flotilla.scheduler.registry.memory.MemoryRegistry;
import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitName;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The engine on small, hand-made clusters: one behaviour per test. */
class EngineTest {

  private static final long S = 1_000_000_000L;
  private static final long GIB = 1L << 30;

  private long now = 1_000 * S;
  private final MemoryRegistry registry = new MemoryRegistry(() -> now);
  private final MemoryEngineLease lease = new MemoryEngineLease(5 * S);

  private Engine engine(String id) {
    return new Engine(id, new EngineRegistry(registry, registry, registry, registry::watch), lease,
        Engine.Config.defaults());
  }

  private void machine(String id, Map<String, String> metadata) {
    registry.publish(new MachineRecord(id, "10.0.0.1", metadata, new Resources(2000, 4 * GIB), "test"), 10);
  }

  private void unit(String name, DesiredState desired, String xfleet) {
    UnitFile file = UnitFile.parse("[Service]\nExecStart=/bin/true\n" + (xfleet.isEmpty() ? "" : "[X-Fleet]\n" + xfleet));
    assertThat(registry.create(new UnitRecord(UnitName.parse(name), file, DesiredState.INACTIVE))).isTrue();
    setDesired(name, desired);
  }

  private void setDesired(String name, DesiredState target) {
    while (true) {
      Versioned<UnitRecord> v = registry.unit(name).orElseThrow();
      if (v.value().desiredState() == target) {
        return;
      }
      assertThat(registry.setDesiredState(name, v.value().desiredState().stepToward(target), v.modRevision())).isTrue();
    }
  }

  /** Runs an engine until it has nothing left to do now. */
  private long settle(Engine e) {
    for (int i = 0; i < 100; i++) {
      long next = e.reconcile(now);
      if (next > now) {
        return next;
      }
    }
    throw new AssertionError("engine never settles");
  }

  @Test
  void withABurstWindowTheCommitsOfABatchArePlacedInOneWriteAndALoneUnitAtOnce() {
    long quiet = 50_000_000L; // 50 ms
    long max = 200_000_000L;
    Engine e = new Engine("e1", new EngineRegistry(registry, registry, registry, registry::watch), lease,
        Engine.Config.defaults().withBurstWindow(3, quiet, max));
    machine("m1", Map.of());
    machine("m2", Map.of());
    settle(e);

    // a lone unit (fewer than 3 at once): placed in the round that sees it
    unit("a.service", DesiredState.LAUNCHED, "");
    settle(e);
    assertThat(registry.assignments()).containsOnlyKeys("a.service");

    // a batch landing as two commits 20 ms apart: placed together, a quiet time after the second
    for (int i = 0; i < 3; i++) {
      unit("b" + i + ".service", DesiredState.LAUNCHED, "");
    }
    assertThat(e.reconcile(now)).as("waits for the rest of the burst").isEqualTo(now + quiet);
    now += quiet * 2 / 5;
    unit("c0.service", DesiredState.LAUNCHED, ""); // one unit: part of the burst under way
    long last = now;
    assertThat(e.reconcile(now)).as("the quiet time counts from the last arrival").isEqualTo(last + quiet);
    assertThat(registry.assignments()).containsOnlyKeys("a.service");
    long assignedBefore = e.stats().assignments();
    now = last + quiet;
    settle(e);
    assertThat(registry.assignments()).containsKeys("b0.service", "b1.service", "b2.service", "c0.service");
    assertThat(e.stats().assignments() - assignedBefore).isEqualTo(4);

    // units arriving without a pause: placed at the window's maximum all the same
    long first = now;
    for (int i = 0; now - first < max; i++) {
      for (int j = 0; j < 3; j++) {
        unit("d" + i + "-" + j + ".service", DesiredState.LAUNCHED, "");
      }
      e.reconcile(now);
      assertThat(registry.assignments()).as("round %d, before the maximum", i).doesNotContainKey("d0-0.service");
      now += quiet / 2;
    }
    settle(e);
    assertThat(registry.assignments()).containsKey("d0-0.service");
  }

  @Test
  void placesLoadedAndLaunchedUnitsOnTheLeastLoadedMachines() {
    machine("m1", Map.of());
    machine("m2", Map.of());
    machine("m3", Map.of());
    unit("a.service", DesiredState.LAUNCHED, "");
    unit("b.service", DesiredState.LOADED, "");
    unit("c.service", DesiredState.LAUNCHED, "");
    unit("off.service", DesiredState.INACTIVE, "");
    settle(engine("e1"));
    Map<String, String> s = registry.assignments();
    assertThat(s).containsOnlyKeys("a.service", "b.service", "c.service");
    assertThat(s.values()).containsExactlyInAnyOrder("m1", "m2", "m3"); // one each: fewest units first
    assertThat(registry.unscheduledReasons()).isEmpty();
  }

  @Test
  void stoppingAndDestroyingUnschedule() {
    machine("m1", Map.of());
    unit("a.service", DesiredState.LAUNCHED, "");
    unit("b.service", DesiredState.LAUNCHED, "");
    Engine e = engine("e1");
    settle(e);
    assertThat(registry.assignments()).containsOnlyKeys("a.service", "b.service");
    setDesired("a.service", DesiredState.INACTIVE);
    registry.destroy("b.service");
    settle(e);
    assertThat(registry.assignments()).isEmpty();
  }

  @Test
  void movesUnitsOffADeadMachineOnlyOnceItsPresenceExpired() {
    machine("m1", Map.of());
    machine("m2", Map.of());
    unit("a.service", DesiredState.LAUNCHED, "MachineMetadata=role=web\n");
    registry.setMetadata("m1", Map.of("role", "web"));
    Engine e = engine("e1");
    settle(e);
    assertThat(registry.assignments()).containsEntry("a.service", "m1");
    // m1's agent dies; m2 becomes a web machine; m2 keeps publishing
    registry.setMetadata("m2", Map.of("role", "web"));
    for (int t = 1; t < 10; t++) {
      now += S;
      machine("m2", Map.of("role", "web"));
      settle(e);
      assertThat(registry.assignments()).as("t=%ds: m1's lease has not run out", t).containsEntry("a.service", "m1");
    }
    now += S; // 10 s after m1's last publish: its presence expires
    settle(e);
    assertThat(registry.assignments()).containsEntry("a.service", "m2");
  }

  @Test
  void replacesMovesTheReplacedUnitAway() {
    machine("m1", Map.of());
    machine("m2", Map.of());
    unit("db.service", DesiredState.LAUNCHED, "MachineMetadata=disk=ssd\n");
    registry.setMetadata("m1", Map.of("disk", "ssd"));
    Engine e = engine("e1");
    settle(e);
    assertThat(registry.assignments()).containsEntry("db.service", "m1");
    registry.setMetadata("m2", Map.of("disk", "ssd"));
    unit("new-db.service", DesiredState.LAUNCHED, "MachineID=m1\nReplaces=db.service\n");
    settle(e);
    assertThat(registry.assignments()).containsEntry("new-db.service", "m1").containsEntry("db.service", "m2");
  }

  @Test
  void aUnitWaitsForItsMachineOfUnitAndSaysWhy() {
    machine("m1", Map.of());
    machine("m2", Map.of());
    unit("db.service", DesiredState.INACTIVE, "");
    unit("side.service", DesiredState.LAUNCHED, "MachineOf=db.service\n");
    Engine e = engine("e1");
    settle(e);
    assertThat(registry.assignments()).isEmpty();
    assertThat(registry.unscheduledReasons())
        .containsEntry("side.service", "MachineOf=db.service: db.service is not scheduled");
    setDesired("db.service", DesiredState.LAUNCHED);
    settle(e);
    assertThat(registry.assignments().get("side.service")).isEqualTo(registry.assignments().get("db.service"))
        .isNotNull();
    assertThat(registry.unscheduledReasons()).isEmpty();
  }

  @Test
  void globalUnitsAreNeverScheduledAndSayWhyWhenNothingMatches() {
    machine("m1", Map.of("region", "east"));
    unit("agent.service", DesiredState.LAUNCHED, "Global=true\n");
    unit("west-agent.service", DesiredState.LAUNCHED, "Global=true\nMachineMetadata=region=west\n");
    settle(engine("e1"));
    assertThat(registry.assignments()).isEmpty();
    assertThat(registry.unscheduledReasons()).containsOnlyKeys("west-agent.service");
    assertThat(registry.unscheduledReasons().get("west-agent.service")).contains("region=west");
  }

  @Test
  void unplaceableForLackOfResourcesUntilAMachineWithRoomArrives() {
    machine("m1", Map.of());
    unit("big.service", DesiredState.LAUNCHED, "MemoryReservation=6G\n");
    Engine e = engine("e1");
    settle(e);
    assertThat(registry.unscheduledReasons().get("big.service")).isEqualTo("needs 6 GiB memory, most free is 4 GiB");
    registry.publish(new MachineRecord("m9", "10.0.0.9", Map.of(), new Resources(1000, 8 * GIB), "test"), 10);
    settle(e);
    assertThat(registry.assignments()).containsEntry("big.service", "m9");
    assertThat(registry.unscheduledReasons()).isEmpty();
  }

  @Test
  void aBrokenWatchIsReplacedByAFullRead() {
    MemoryRegistry small = new MemoryRegistry(() -> now, 3); // a watch holds 3 events, then breaks
    Engine e = new Engine("e1", new EngineRegistry(small, small, small, small::watch), lease, Engine.Config.defaults());
    small.publish(new MachineRecord("m1", "ip", Map.of(), Resources.NONE, "t"), 10);
    settle(e);
    long passes = e.stats().fullPasses();
    for (int i = 0; i < 10; i++) {
      UnitFile f = UnitFile.parse("[Service]\nExecStart=/bin/true\n");
      small.create(new UnitRecord(UnitName.parse("u" + i + ".service"), f, DesiredState.INACTIVE));
      small.setDesiredState("u" + i + ".service", DesiredState.LOADED, small.unit("u" + i + ".service").get().modRevision());
    }
    settle(e);
    assertThat(e.stats().fullPasses()).isGreaterThan(passes);
    assertThat(small.assignments()).hasSize(10);
  }

  @Test
  void aFollowerWaitsForTheLeasesExpiryAndThenLeads() {
    machine("m1", Map.of());
    unit("a.service", DesiredState.LAUNCHED, "");
    Engine e1 = engine("e1");
    Engine e2 = engine("e2");
    settle(e1);
    assertThat(e1.isLeader()).isTrue();
    long retry = e2.reconcile(now);
    assertThat(e2.isLeader()).isFalse();
    assertThat(retry).isEqualTo(now + 5 * S); // e1's lease, just taken, runs out then
    now = retry; // e1 died right after taking the lease
    machine("m1", Map.of());
    settle(e2);
    assertThat(e2.isLeader()).isTrue();
    assertThat(registry.assignments()).containsOnlyKeys("a.service");
    assertThat(e2.stats().assignments()).isZero(); // found it placed; nothing to redo
  }

  @Test
  void aFollowerWokenBeforeItsRetryTimeDoesNotAskForTheLease() {
    machine("m1", Map.of());
    Engine e1 = engine("e1");
    settle(e1);
    int[] attempts = {0};
    EngineLease counted = new EngineLease() { // the real lease, its attempts counted
      @Override
      public LeaseStatus tryAcquire(String candidate, long nowNanos) {
        attempts[0]++;
        return lease.tryAcquire(candidate, nowNanos);
      }

      @Override
      public void release(String candidate) {
        lease.release(candidate);
      }

      @Override
      public long ttlNanos() {
        return lease.ttlNanos();
      }
    };
    Engine e2 = new Engine("e2", new EngineRegistry(registry, registry, registry, registry::watch), counted,
        new Engine.Config(2 * S, Engine.Config.defaults().maxEventsPerPoll()));
    long retry = e2.reconcile(now);
    assertThat(attempts[0]).isEqualTo(1);
    assertThat(retry).as("the safety pass interval, before e1's lease runs out").isEqualTo(now + 2 * S);
    // fleetd wakes the loop every second at least: no store request for those
    e2.reconcile(now + S);
    e2.reconcile(now + S + S / 2);
    assertThat(attempts[0]).isEqualTo(1);
    assertThat(e2.reconcile(now + 2 * S)).isEqualTo(now + 4 * S);
    assertThat(attempts[0]).isEqualTo(2);
    assertThat(e2.isLeader()).isFalse();
  }

  @Test
  void aLeaderBackFromAPauseFindsItIsDeposedAndWritesNothing() {
    machine("m1", Map.of());
    machine("m2", Map.of());
    Engine e1 = engine("e1");
    Engine e2 = engine("e2");
    settle(e1);
    now += 6 * S; // e1 is paused past its lease; e2 takes over
    machine("m1", Map.of());
    machine("m2", Map.of());
    settle(e2);
    assertThat(e2.isLeader()).isTrue();
    unit("a.service", DesiredState.LAUNCHED, "");
    settle(e2);
    String host = registry.assignments().get("a.service");
    now += S;
    registry.leave(host); // e1 would move it if it still thought it led
    long before = e1.stats().assignments() + e1.stats().unassignments();
    e1.reconcile(now);
    assertThat(e1.isLeader()).isFalse();
    assertThat(e1.stats().assignments() + e1.stats().unassignments()).isEqualTo(before);
    settle(e2);
    assertThat(registry.assignments().get("a.service")).isNotEqualTo(host).isNotNull();
  }
}
