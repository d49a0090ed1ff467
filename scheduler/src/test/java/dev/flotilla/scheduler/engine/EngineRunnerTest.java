package dev.flotilla.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.registry.DesiredState;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.UnitRecord;
import dev.flotilla.scheduler.registry.memory.MemoryRegistry;
import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitName;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** The thread around the engine, on the real clock: it leads, wakes when told, lets go on close. */
class EngineRunnerTest {

  @Test
  void runsTheEngineWakesWhenToldAndReleasesTheLeaseOnClose() {
    MemoryRegistry registry = new MemoryRegistry(System::nanoTime);
    registry.publish(new MachineRecord("m1", "10.0.0.1", Map.of(), Resources.NONE, "test"), 60);
    MemoryEngineLease lease = new MemoryEngineLease(TimeUnit.SECONDS.toNanos(60));
    Engine engine = new Engine("e1", new EngineRegistry(registry, registry, registry, registry::watch), lease,
        Engine.Config.defaults());
    // without a wake-up the next round is 20 s away (renewal at TTL/3) and maxIdle is a minute
    try (EngineRunner runner = new EngineRunner(engine, System::nanoTime, TimeUnit.SECONDS.toNanos(60)).start()) {
      await(() -> "e1".equals(lease.holder()), "the engine takes the lease");
      UnitRecord u = new UnitRecord(UnitName.parse("a.service"), UnitFile.parse("[Service]\nExecStart=/bin/true\n"),
          DesiredState.INACTIVE);
      registry.create(u);
      registry.setDesiredState("a.service", DesiredState.LOADED, registry.unit("a.service").orElseThrow().modRevision());
      runner.wakeUp();
      await(() -> "m1".equals(registry.assignments().get("a.service")), "a.service placed after a wake-up");
    }
    assertThat(lease.holder()).as("lease after close").isNull();
  }

  /** Polls until {@code condition} holds, failing after 5 s. */
  private static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("not within 5 s: " + what);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
  }
}
