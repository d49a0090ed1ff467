package dev.flotilla.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.agent.runtime.systemd.SystemdHost;
import dev.flotilla.agent.runtime.systemd.SystemdRuntime;
import dev.flotilla.kv.client.StoreTargets;
import dev.flotilla.kv.client.StoreTargets.Kind;
import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.registry.DesiredState;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.UnitRecord;
import dev.flotilla.scheduler.registry.UnitStateRecord;
import dev.flotilla.scheduler.registry.store.StoreRegistry;
import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitName;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The agent's reconciler with the real systemd runtime against a real systemd ({@link SystemdHost})
 * and the real registry in an in-process kvd: what systemd does behind the agent's back reaches
 * the registry within a second, by the journal, not by polling (the idle poll here is a minute).
 */
class AgentReconcilerSystemdTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final String UNIT = "behind-back.service";

  private StoreTargets targets;
  private SystemdHost host;
  private StoreRegistry registry;
  private SystemdRuntime runtime;
  private AgentReconciler agent;

  @BeforeEach
  void setUp() {
    host = SystemdHost.start("flotilla-reconciler-test");
    targets = new StoreTargets();
    registry = new StoreRegistry(targets.client(Kind.IN_PROCESS_KVD), "/agent-systemd-test/");
    registry.publish(new MachineRecord("m1", "10.0.0.1", Map.of(), Resources.NONE, "t"), 30);
    runtime = new SystemdRuntime(host.runtimeOptions());
    // the defaults: states polled every 5 s without a change feed, once a minute with one
    agent = new AgentReconciler("m1", registry, registry, registry, Map::of, runtime,
        AgentReconciler.Config.defaults());
  }

  @AfterEach
  void tearDown() {
    try {
      if (agent != null) {
        agent.close();
      }
      if (runtime != null) {
        runtime.close();
      }
      if (registry != null) {
        registry.close();
      }
      if (targets != null) {
        targets.close();
      }
    } finally {
      if (host != null) {
        host.close();
      }
    }
  }

  private Optional<UnitStateRecord> state() {
    return registry.states().stream().filter(s -> s.unit().equals(UNIT)).findFirst();
  }

  private boolean reported(String active, String sub) {
    return state().map(s -> s.activeState().equals(active) && s.subState().equals(sub)).orElse(false);
  }

  /** Runs rounds as the agent's thread does (at the deadlines asked, at least every 100 ms); returns ms taken. */
  private long runUntil(BooleanSupplier done, String what) {
    long t0 = System.nanoTime();
    long deadline = t0 + WAIT.toNanos();
    while (true) {
      long next = agent.reconcile(System.nanoTime());
      if (done.getAsBoolean()) {
        return (System.nanoTime() - t0) / 1_000_000;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + WAIT + ": " + what + "; last reported " + state());
      }
      LockSupport.parkNanos(Math.max(0, Math.min(next - System.nanoTime(), TimeUnit.MILLISECONDS.toNanos(100))));
    }
  }

  private long mainPid() {
    return Long.parseLong(host.exec("systemctl", "show", "-p", "MainPID", "--value", UNIT).output());
  }

  @Test
  void whatSystemdDoesBehindTheAgentsBackIsReportedWithinASecond() {
    var r = new UnitRecord(UnitName.parse(UNIT), UnitFile.parse("[Service]\nExecStart=/bin/sleep 1000\n"),
        DesiredState.INACTIVE);
    assertThat(registry.create(r)).isTrue();
    for (DesiredState d : new DesiredState[] {DesiredState.LOADED, DesiredState.LAUNCHED}) {
      registry.setDesiredState(UNIT, d, registry.unit(UNIT).orElseThrow().modRevision());
    }
    assertThat(registry.assign(UNIT, "m1", 0)).isTrue();
    runUntil(() -> reported("active", "running"), UNIT + " reported running");
    long quietFrom = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(3_500);
    runUntil(() -> System.nanoTime() - quietFrom >= 0, "the follow-up reads after the start to pass");
    long commands = runtime.commandsRun();

    assertThat(host.exec("kill", "-9", Long.toString(mainPid())).exitCode()).isZero();
    long killedMs = runUntil(() -> reported("failed", "failed"), UNIT + " killed, reported failed");
    assertThat(host.exec("systemctl", "start", UNIT).exitCode()).isZero();
    long startedMs = runUntil(() -> reported("active", "running"), UNIT + " started by hand, reported running");
    assertThat(host.exec("systemctl", "stop", UNIT).exitCode()).isZero();
    long stoppedMs = runUntil(() -> reported("inactive", "dead"), UNIT + " stopped by hand, reported dead");
    long used = runtime.commandsRun() - commands;
    System.out.printf("systemd host, reconciler: reported %d ms after kill -9, %d ms after systemctl start, %d ms"
        + " after systemctl stop (each after the command inside the host returned); %d systemctl processes%n",
        killedMs, startedMs, stoppedMs, used);
    assertThat(killedMs).as("kill -9 to reported, ms").isLessThan(2_000);
    assertThat(startedMs).as("systemctl start to reported, ms").isLessThan(2_000);
    assertThat(stoppedMs).as("systemctl stop to reported, ms").isLessThan(2_000);
    assertThat(used).as("one batched show per change seen, at most two per state change").isLessThanOrEqualTo(6);

    // idle: no process at all
    long idle = runtime.commandsRun();
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
    runUntil(() -> System.nanoTime() - until >= 0, "3 s idle");
    assertThat(runtime.commandsRun()).as("commands spawned in 3 idle seconds").isEqualTo(idle);
  }

  /**
   * Starts on their own threads, as fleetd's agent runs them under systemd: a second batch assigned
   * while the first one's {@code systemctl start} may still run is started beside it, and then
   * units taken off the machine are stopped and unloaded: systemd ends up running exactly what is
   * assigned, and every unit is reported so.
   */
  @Test
  void startsBesideARunningStartLeaveSystemdRunningExactlyWhatIsAssigned() throws Exception {
    assertThat(runtime.startsConcurrently()).isTrue();
    ExecutorService threads = Executors.newCachedThreadPool();
    agent.close();
    agent = new AgentReconciler("m1", registry, registry, registry, Map::of, runtime,
        AgentReconciler.Config.defaults(), threads);
    try {
      List<String> all = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        String unit = "beside" + i + ".service";
        all.add(unit);
        var r = new UnitRecord(UnitName.parse(unit), UnitFile.parse("[Service]\nExecStart=/bin/sleep 1000\n"),
            DesiredState.INACTIVE);
        assertThat(registry.create(r)).isTrue();
        for (DesiredState d : new DesiredState[] {DesiredState.LOADED, DesiredState.LAUNCHED}) {
          registry.setDesiredState(unit, d, registry.unit(unit).orElseThrow().modRevision());
        }
      }
      agent.reconcile(System.nanoTime());
      all.subList(0, 20).forEach(u -> assertThat(registry.assign(u, "m1", 0)).isTrue());
      runUntil(() -> host.exec("systemctl", "list-jobs", "--no-legend", "--no-pager").output().contains("beside")
          || running() > 0, "the first batch's start under way");
      all.subList(20, 40).forEach(u -> assertThat(registry.assign(u, "m1", 0)).isTrue());
      runUntil(() -> running() == 40 && reportedRunning(all) == 40, "40 units running and reported");

      // ten taken off the machine: stopped and unloaded, the other 30 untouched
      for (String u : all.subList(0, 10)) {
        assertThat(registry.unassign(u, registry.assignment(u).orElseThrow().modRevision())).isTrue();
      }
      runUntil(() -> running() == 30 && reportedRunning(all) == 30, "30 units left running");
      assertThat(host.exec("systemctl", "is-active", "beside0.service").output()).isNotEqualTo("active");
      assertThat(host.exec("systemctl", "is-active", "beside39.service").output()).isEqualTo("active");
    } finally {
      threads.shutdown();
      assertThat(threads.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    }
  }

  /** Units named beside*.service systemd runs now. */
  private int running() {
    String out = host.exec("systemctl", "list-units", "--state=running", "--no-legend", "--no-pager", "--plain",
        "beside*.service").output();
    return (int) out.lines().filter(l -> l.startsWith("beside")).count();
  }

  private long reportedRunning(List<String> units) {
    return registry.states().stream()
        .filter(s -> units.contains(s.unit()) && s.activeState().equals("active") && s.subState().equals("running"))
        .count();
  }
}
