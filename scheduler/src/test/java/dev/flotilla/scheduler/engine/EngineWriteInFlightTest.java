package dev.flotilla.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.registry.DesiredState;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.RegistryEvent;
import dev.flotilla.scheduler.registry.RegistryWatch;
import dev.flotilla.scheduler.registry.ScheduleRegistry;
import dev.flotilla.scheduler.registry.ScheduleWrite;
import dev.flotilla.scheduler.registry.UnitRecord;
import dev.flotilla.scheduler.registry.Versioned;
import dev.flotilla.scheduler.registry.memory.MemoryRegistry;
import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitName;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A schedule write left in flight at the end of a round (as over a store, when more events wait):
 * the engine goes on, and takes the answer before it writes again, whatever it was.
 */
class EngineWriteInFlightTest {

  private static final long S = 1_000_000_000L;

  private final long now = 1_000 * S;
  private final MemoryRegistry registry = new MemoryRegistry(() -> now);
  private final ExecutorService writer = Executors.newSingleThreadExecutor();
  /** Holds back the first write until opened; later writes go at once. */
  private final CountDownLatch gate = new CountDownLatch(1);
  private volatile boolean busy = true;
  private int writesSent;

  /** The registry's schedule, its writes answered later, from another thread, once the gate opens. */
  private final ScheduleRegistry gated = new ScheduleRegistry() {
    @Override
    public Optional<Versioned<String>> assignment(String unit) {
      return registry.assignment(unit);
    }

    @Override
    public Map<String, String> assignments() {
      return registry.assignments();
    }

    @Override
    public boolean assign(String unit, String machineId, long expectedModRevision) {
      return registry.assign(unit, machineId, expectedModRevision);
    }

    @Override
    public boolean unassign(String unit, long expectedModRevision) {
      return registry.unassign(unit, expectedModRevision);
    }

    @Override
    public void setUnscheduledReason(String unit, String reason) {
      registry.setUnscheduledReason(unit, reason);
    }

    @Override
    public CompletableFuture<List<ScheduleWrite.Outcome>> writeLater(List<ScheduleWrite> writes,
        Map<String, String> reasons) {
      writesSent++;
      return CompletableFuture.supplyAsync(() -> {
        try {
          assertThat(gate.await(30, TimeUnit.SECONDS)).isTrue();
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
        List<ScheduleWrite.Outcome> out = registry.write(writes);
        registry.setUnscheduledReasons(reasons);
        return out;
      }, writer);
    }
  };

  /** The registry's watch, saying events wait while {@link #busy} (the engine then leaves its write in flight). */
  private RegistryWatch watch() {
    RegistryWatch w = registry.watch();
    return new RegistryWatch() {
      @Override
      public List<RegistryEvent> poll(int max) {
        return w.poll(max);
      }

      @Override
      public boolean isBroken() {
        return w.isBroken();
      }

      @Override
      public boolean hasEvents() {
        return busy;
      }

      @Override
      public void close() {
        w.close();
      }
    };
  }

  private Engine engine() {
    return new Engine("e1", new EngineRegistry(registry, gated, registry, this::watch),
        new MemoryEngineLease(5 * S), Engine.Config.defaults());
  }

  @AfterEach
  void stop() {
    gate.countDown();
    writer.shutdownNow();
  }

  private void machine(String id) {
    registry.publish(new MachineRecord(id, "10.0.0.1", Map.of(), new Resources(2000, 4L << 30), "test"), 10);
  }

  private void unit(String name, String xfleet) {
    UnitFile file = UnitFile.parse("[Service]\nExecStart=/bin/true\n[X-Fleet]\n" + xfleet);
    assertThat(registry.create(new UnitRecord(UnitName.parse(name), file, DesiredState.INACTIVE))).isTrue();
    Versioned<UnitRecord> v = registry.unit(name).orElseThrow();
    assertThat(registry.setDesiredState(name, DesiredState.LOADED, v.modRevision())).isTrue();
  }

  private static void settle(Engine e, long now) {
    for (int i = 0; i < 100; i++) {
      if (e.reconcile(now) > now) {
        return;
      }
    }
    throw new AssertionError("engine never settles");
  }

  @Test
  void placesTheNextUnitsWhileAWriteIsInFlightAndTakesItsAnswerBeforeWritingAgain() {
    machine("m1");
    machine("m2");
    unit("a.service", "Conflicts=b.service");
    Engine e = engine();
    assertThat(e.reconcile(now)).as("a write is in flight: called again at once").isEqualTo(now);
    assertThat(writesSent).isEqualTo(1);
    assertThat(registry.assignments()).as("not written yet").isEmpty();
    assertThat(e.stats().assignments()).isZero();

    // b arrives and is placed away from a (the view has a where its write puts it)
    unit("b.service", "");
    gate.countDown();
    busy = false;
    settle(e, now);
    Map<String, String> s = registry.assignments();
    assertThat(s).containsOnlyKeys("a.service", "b.service");
    assertThat(s.get("a.service")).isNotEqualTo(s.get("b.service"));
    assertThat(e.stats().assignments()).isEqualTo(2);
    assertThat(e.stats().failedWrites()).isZero();
    assertThat(writesSent).isEqualTo(2);
  }

  @Test
  void aWriteInFlightThatFailsIsReadBackAndTheUnitDecidedAgain() {
    machine("m1");
    machine("m2");
    unit("a.service", "");
    Engine e = engine();
    assertThat(e.reconcile(now)).isEqualTo(now);
    // someone else (a late former leader) assigns a before the engine's write lands: it fails
    String other = "m1";
    assertThat(registry.assign("a.service", other, 0)).isTrue();
    gate.countDown();
    busy = false;
    settle(e, now);
    assertThat(e.stats().failedWrites()).isEqualTo(1);
    assertThat(registry.assignments()).containsOnly(Map.entry("a.service", other)); // m1 is fine: kept
    settle(e, now);
    assertThat(registry.assignments()).containsOnly(Map.entry("a.service", other));
  }
}
