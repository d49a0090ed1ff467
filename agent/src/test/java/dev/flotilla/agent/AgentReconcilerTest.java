package dev.flotilla.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.kv.client.StoreTargets;
import dev.flotilla.kv.client.StoreTargets.Kind;
import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.registry.DesiredState;
import dev.flotilla.scheduler.registry.MachineSchedule;
import dev.flotilla.scheduler.registry.RegistryWatch;
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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The agent's reconciler over the real registry in an in-process kvd, with the runtime's twin: the
 * test plays the engine (writing assignments and desired states) and drives rounds on the real
 * clock until the runtime and the reported states show the outcome.
 */
class AgentReconcilerTest {
  private static final AtomicInteger PREFIXES = new AtomicInteger();
  @RegisterExtension
  static final StoreTargets targets = new StoreTargets();

  private StoreRegistry registry;
  private FakeRuntime runtime;
  private AgentReconciler agent;
  private Map<String, String> metadata = Map.of("role", "web");

  @BeforeEach
  void setUp() {
    registry = new StoreRegistry(targets.client(Kind.IN_PROCESS_KVD), "/agent-test-" + PREFIXES.incrementAndGet() + "/");
    registry.publish(new MachineRecord("m1", "10.0.0.1", metadata, Resources.NONE, "t"), 30);
    runtime = new FakeRuntime();
    agent = newAgent(runtime);
  }

  private AgentReconciler newAgent(FakeRuntime rt) {
    return new AgentReconciler("m1", registry, registry, registry, () -> metadata, rt,
        new AgentReconciler.Config(Duration.ofMillis(200), Duration.ofSeconds(60)));
  }

  @AfterEach
  void tearDown() {
    agent.close();
    registry.close();
  }

  private void submit(String name, String xfleet, DesiredState desired) {
    UnitRecord r = new UnitRecord(UnitName.parse(name),
        UnitFile.parse("[Service]\nExecStart=/bin/sleep 1000\n" + (xfleet.isEmpty() ? "" : "\n[X-Fleet]\n" + xfleet)),
        DesiredState.INACTIVE);
    assertThat(registry.create(r)).isTrue();
    DesiredState at = DesiredState.INACTIVE;
    while (at != desired) {
      at = at.stepToward(desired);
      registry.setDesiredState(name, at, registry.unit(name).orElseThrow().modRevision());
    }
  }

  private void setDesired(String name, DesiredState desired) {
    registry.setDesiredState(name, desired, registry.unit(name).orElseThrow().modRevision());
  }

  private void assign(String unit, String machine) {
    long rev = registry.assignment(unit).map(v -> v.modRevision()).orElse(0L);
    assertThat(registry.assign(unit, machine, rev)).isTrue();
  }

  private Optional<UnitStateRecord> state(String unit) {
    return registry.states().stream().filter(s -> s.unit().equals(unit) && s.machineId().equals("m1")).findFirst();
  }

  /** Runs rounds (at the times they ask for, no later than every 20 ms) until the condition holds. */
  private void runUntil(AgentReconciler a, BooleanSupplier done, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      long next = a.reconcile(System.nanoTime());
      if (done.getAsBoolean()) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 20 s: " + what + "; runtime calls " + runtime.calls());
      }
      LockSupport.parkNanos(Math.max(0, Math.min(next - System.nanoTime(), TimeUnit.MILLISECONDS.toNanos(20))));
    }
  }

  /**
   * List and watch: the schedule is read once, when its watch opens; the assignments and desired
   * state changes that follow come from the watch's events, with no read of the schedule each (a
   * linearizable read waits behind the store applying the engine's other txns: 77-131 ms per burst
   * on the three-host bench).
   */
  @Test
  void assignmentsAndDesiredStatesComeFromTheWatchWithNoReadOfTheSchedule() {
    submit("a.service", "", DesiredState.LAUNCHED);
    submit("b.service", "", DesiredState.LAUNCHED);
    AtomicInteger reads = new AtomicInteger();
    MachineSchedule counted = new MachineSchedule() {
      @Override
      public Assigned assignedTo(String machineId) {
        reads.incrementAndGet();
        return registry.assignedTo(machineId);
      }

      @Override
      public RegistryWatch watchAssignedTo(String machineId, long fromRevision) {
        return registry.watchAssignedTo(machineId, fromRevision);
      }

      @Override
      public Assigned globals() {
        return registry.globals();
      }

      @Override
      public RegistryWatch watchGlobals(long fromRevision) {
        return registry.watchGlobals(fromRevision);
      }
    };
    agent.close();
    agent = new AgentReconciler("m1", counted, registry, registry, () -> metadata, runtime,
        new AgentReconciler.Config(Duration.ofMillis(200), Duration.ofSeconds(60)));
    agent.reconcile(System.nanoTime()); // opens its watch from a read of the schedule
    assertThat(reads).hasValue(1);
    assign("a.service", "m1");
    assign("b.service", "m1");
    runUntil(agent, () -> runtime.running().containsKey("a.service") && runtime.running().containsKey("b.service"),
        "both started");
    assertThat(reads).as("schedule reads").hasValue(1);
    setDesired("b.service", DesiredState.LOADED);
    runUntil(agent, () -> !runtime.running().containsKey("b.service"), "b.service stopped");
    assertThat(runtime.files()).containsKey("b.service");
    assign("a.service", "m2");
    runUntil(agent, () -> !runtime.files().containsKey("a.service"), "a.service unloaded");
    assertThat(reads).as("schedule reads").hasValue(1);
    assertThat(agent.scheduleReads()).isEqualTo(1);
  }

  /**
   * The engine writes a burst in several txns that land some ms apart (five for 300 units): the
   * agent takes them as one start. Acting on the first txn's share left the rest waiting for its
   * {@code systemctl start} (0.5-1 s for 100 units on the bench hosts).
   */
  @Test
  void aBurstWrittenInSeveralTxnsIsOneStart() {
    for (int i = 0; i < 30; i++) {
      submit("burst" + i + ".service", "", DesiredState.LAUNCHED);
    }
    long t = System.nanoTime();
    agent.reconcile(t);
    // the test's own watch of the schedule says when a group's writes were delivered
    RegistryWatch seen = registry.watchAssignedTo("m1", registry.assignedTo("m1").revision() + 1);
    int delivered = 0;
    for (int group = 0; group < 3; group++) {
      for (int i = group * 10; i < group * 10 + 10; i++) {
        assign("burst" + i + ".service", "m1");
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      long settled = 0;
      // rounds on the agent's clock, which stands still while the group lands (and 50 ms after)
      while (settled == 0 || System.nanoTime() - settled < 0) {
        agent.reconcile(t);
        delivered += seen.poll(100).size();
        if (settled == 0 && delivered == group * 10 + 10) {
          settled = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
        }
        assertThat(System.nanoTime()).as("group %s delivered within 20 s", group).isLessThan(deadline);
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
      }
      // the engine's next txn lands a few ms later on the agent's clock: less than the quiet window
      t += TimeUnit.MILLISECONDS.toNanos(AgentReconciler.BURST_QUIET_MS / 4);
    }
    seen.close();
    assertThat(runtime.count("loadAndStart")).as("nothing started while the burst came: %s", runtime.calls()).isZero();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (runtime.running().size() < 30) {
      t += TimeUnit.MILLISECONDS.toNanos(5);
      agent.reconcile(t);
      assertThat(System.nanoTime()).as("30 units running within 20 s: %s", runtime.calls()).isLessThan(deadline);
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
    assertThat(runtime.count("loadAndStart")).as("starts: %s", runtime.calls()).isEqualTo(1);
  }

  /**
   * Units assigned while a start runs (0.5-1 s for 100 systemd units) are started beside it, not
   * after it returns (a burst the engine placed in two writes waited ~0.5 s for the first start);
   * a stop (or unload) waits until no start runs: a stop of a unit whose start still runs must not
   * come first and be undone by it.
   */
  @Test
  void unitsAssignedWhileAStartRunsAreStartedBesideItAndAStopWaitsForIt() throws Exception {
    ExecutorService threads = Executors.newCachedThreadPool();
    try {
      firstOfTwoBatchesAssigned(Duration.ofMillis(800), threads);
      runUntil(agent, () -> runtime.count("loadAndStart") == 1, "the first batch handed to the runtime");
      for (int i = 0; i < 4; i++) {
        assign("second" + i + ".service", "m1");
      }
      runUntil(agent, () -> runtime.count("loadAndStart") == 2, "the second batch handed to the runtime");
      assertThat(runtime.running()).as("the first start has not returned yet: %s", runtime.calls()).isEmpty();
      setDesired("first0.service", DesiredState.LOADED);
      runUntil(agent, () -> runtime.running().size() == 7 && runtime.count("stop") == 1, "7 running, first0 stopped");
      long settle = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
      runUntil(agent, () -> System.nanoTime() > settle, "a few more rounds");
      assertThat(runtime.running()).hasSize(7).doesNotContainKey("first0.service");
      assertThat(runtime.files()).containsKey("first0.service");
    } finally {
      threads.shutdown();
      assertThat(threads.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
  }

  /**
   * The agent anew with its starts on {@code threads}, each start taking {@code startTakes}; units
   * first0-3 and second0-3 submitted to launch, first0-3 assigned to this machine.
   */
  private void firstOfTwoBatchesAssigned(Duration startTakes, ExecutorService threads) {
    runtime.slowStarts(startTakes);
    agent.close();
    agent = new AgentReconciler("m1", registry, registry, registry, () -> metadata, runtime,
        new AgentReconciler.Config(Duration.ofMillis(200), Duration.ofSeconds(60)), threads);
    for (int i = 0; i < 4; i++) {
      submit("first" + i + ".service", "", DesiredState.LAUNCHED);
      submit("second" + i + ".service", "", DesiredState.LAUNCHED);
    }
    agent.reconcile(System.nanoTime());
    for (int i = 0; i < 4; i++) {
      assign("first" + i + ".service", "m1");
    }
  }

  @Test
  void statesGoneWithTheLeaseAreReportedAgainAtTheRoundAfterThePresenceIsRenewed() {
    submit("web.service", "", DesiredState.LAUNCHED);
    assign("web.service", "m1");
    runUntil(agent, () -> state("web.service").map(s -> s.activeState().equals("active")).orElse(false),
        "web.service reported active");
    long settle = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
    runUntil(agent, () -> System.nanoTime() > settle, "a few more rounds");
    registry.clear("web.service", "m1"); // as the expired lease took it
    agent.presenceRenewed();
    agent.reconcile(System.nanoTime());
    // before: presenceRenewed set the next poll to Long.MIN_VALUE, which `now - next >= 0` took as
    // far in the future (the subtraction overflows): the state came back at the next action only
    assertThat(state("web.service")).as("reported again in that round").isPresent();
  }

  @Test
  void noFollowUpReadWhileAStartRunsUnderAFollowedRuntimeItsEndReadsThemAll() throws Exception {
    ExecutorService threads = Executors.newCachedThreadPool();
    try {
      firstOfTwoBatchesAssigned(Duration.ofMillis(300), threads);
      runUntil(agent, () -> state("first3.service").map(s -> s.activeState().equals("active")).orElse(false),
          "the first batch running and reported");
      long settle = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(400); // its feed's read and first follow-up
      runUntil(agent, () -> System.nanoTime() > settle, "a few more rounds");
      runtime.slowStarts(Duration.ofMillis(1_500)); // past the 0.2 and 1 s follow-ups of the second start
      for (int i = 0; i < 4; i++) {
        assign("second" + i + ".service", "m1");
      }
      runUntil(agent, () -> runtime.count("loadAndStart") == 2, "the second batch handed to the runtime");
      runUntil(agent, () -> runtime.running().size() == 8, "the second start returned");
      runUntil(agent, () -> state("second3.service").map(s -> s.activeState().equals("active")).orElse(false),
          "the second batch reported once its start returned");
      // what the runtime was asked between the second start's call and its units' start (the
      // latency's end): before, the follow-ups at 0.2 and 1 s read the first batch (a systemctl each)
      List<String> calls = runtime.calls();
      int from = calls.indexOf(calls.stream().filter(c -> c.startsWith("loadAndStart [second")).findFirst().orElseThrow());
      int to = calls.indexOf(calls.stream().filter(c -> c.startsWith("start [second")).findFirst().orElseThrow());
      assertThat(calls.subList(from, to)).as("calls while the second start ran: %s", calls)
          .noneMatch(c -> c.startsWith("states"));
      assertThat(calls.subList(to, calls.size())).as("its end reads them all").contains("states 8");
      for (int i = 0; i < 4; i++) {
        assertThat(state("second" + i + ".service")).hasValueSatisfying(s -> assertThat(s.subState()).isEqualTo("running"));
      }

      // the presence renewed (its lease had expired, and the states with it) during a start: every
      // state not starting is reported again at once, not after the start
      submit("third.service", "", DesiredState.LAUNCHED);
      assign("third.service", "m1");
      runUntil(agent, () -> runtime.count("loadAndStart") == 3, "the third start handed to the runtime");
      int before = runtime.calls().size();
      agent.presenceRenewed();
      agent.reconcile(System.nanoTime());
      assertThat(runtime.calls().subList(before, runtime.calls().size())).as("calls after the presence was renewed")
          .contains("states 8");
    } finally {
      threads.shutdown();
      assertThat(threads.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void runsWhatIsAssignedHereReportsItAndLetsGoWhenItLeaves() {
    submit("web.service", "", DesiredState.LAUNCHED);
    submit("elsewhere.service", "", DesiredState.LAUNCHED);
    assign("elsewhere.service", "m2");
    assign("web.service", "m1");

    runUntil(agent, () -> state("web.service").map(s -> s.activeState().equals("active")).orElse(false),
        "web.service reported active");
    assertThat(runtime.running()).containsOnlyKeys("web.service");
    assertThat(runtime.files()).containsOnlyKeys("web.service");
    UnitStateRecord s = state("web.service").orElseThrow();
    assertThat(s.loadState()).isEqualTo("loaded");
    assertThat(s.subState()).isEqualTo("running");
    assertThat(s.hash()).isEqualTo(registry.unit("web.service").orElseThrow().value().file().hash());

    // launched → loaded: stopped, still loaded
    setDesired("web.service", DesiredState.LOADED);
    runUntil(agent, () -> state("web.service").map(x -> x.activeState().equals("inactive")).orElse(false),
        "web.service reported inactive");
    assertThat(runtime.running()).isEmpty();
    assertThat(runtime.files()).containsOnlyKeys("web.service");

    // moved to another machine: unloaded here and its state here cleared
    assign("web.service", "m2");
    runUntil(agent, () -> runtime.files().isEmpty() && state("web.service").isEmpty(), "web.service gone from m1");
  }

  @Test
  void actsInBatchesAndDoesNotRestartAFailedUnit() {
    for (int i = 0; i < 40; i++) {
      submit("batch" + i + ".service", "", DesiredState.LAUNCHED);
    }
    // assignments land while the agent is idle: the next round takes them together
    agent.reconcile(System.nanoTime());
    for (int i = 0; i < 40; i++) {
      assign("batch" + i + ".service", "m1");
    }
    runUntil(agent, () -> runtime.running().size() == 40, "40 units running");
    assertThat(runtime.count("start")).as("starts, as batches: %s", runtime.calls()).isLessThanOrEqualTo(3);
    assertThat(runtime.count("load")).isLessThanOrEqualTo(3);
    // new units to launch: their files and their start handed over together, each round
    assertThat(runtime.count("loadAndStart")).as("%s", runtime.calls()).isEqualTo(runtime.count("start"));

    runtime.crash("batch7.service");
    runUntil(agent, () -> state("batch7.service").map(x -> x.activeState().equals("failed")).orElse(false),
        "batch7 reported failed");
    long starts = runtime.count("start");
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(600);
    runUntil(agent, () -> System.nanoTime() > deadline, "a few more rounds");
    assertThat(runtime.count("start")).as("a failed unit is not started again by the agent").isEqualTo(starts);
  }

  @Test
  void runsGlobalUnitsWhoseMetadataMatches() {
    submit("everywhere.service", "Global=true\n", DesiredState.LAUNCHED);
    submit("webonly.service", "Global=true\nMachineMetadata=role=web\n", DesiredState.LAUNCHED);
    submit("dbonly.service", "Global=true\nMachineMetadata=role=db\n", DesiredState.LAUNCHED);
    runUntil(agent, () -> runtime.running().size() == 2, "two globals running");
    assertThat(runtime.running()).containsOnlyKeys("everywhere.service", "webonly.service");

    registry.destroy("everywhere.service");
    runUntil(agent, () -> !runtime.files().containsKey("everywhere.service"), "destroyed global unloaded");
  }

  @Test
  void aRestartedAgentAdoptsWhatRunsInsteadOfStartingItAgain() {
    submit("kept.service", "", DesiredState.LAUNCHED);
    submit("stale.service", "", DesiredState.LAUNCHED);
    assign("kept.service", "m1");
    assign("stale.service", "m1");
    runUntil(agent, () -> runtime.running().size() == 2, "both running");
    long pid = runtime.running().get("kept.service");
    agent.close();

    // while no agent runs, stale.service is moved away
    assign("stale.service", "m2");
    long startsBefore = runtime.count("start");
    agent = newAgent(runtime); // the same host: what the first agent left is still there
    runUntil(agent, () -> !runtime.files().containsKey("stale.service")
        && state("kept.service").map(x -> x.activeState().equals("active")).orElse(false), "adopted");
    assertThat(runtime.running()).containsEntry("kept.service", pid);
    assertThat(runtime.count("start")).as("nothing started again").isEqualTo(startsBefore);
  }

  /** Runs rounds until {@code nanos} have passed (the runtime and registry may change meanwhile). */
  private void runFor(AgentReconciler a, long nanos) {
    long until = System.nanoTime() + nanos;
    runUntil(a, () -> System.nanoTime() - until >= 0, "time to pass");
  }

  private boolean reported(String unit, String activeState) {
    return state(unit).map(x -> x.activeState().equals(activeState)).orElse(false);
  }

  @Test
  void changesTheRuntimeNamesAreReportedWithOneBatchedReadOfThoseUnitsOnly() {
    int n = 300;
    for (int i = 0; i < n; i++) {
      submit("burst" + i + ".service", "", DesiredState.LAUNCHED);
    }
    agent.reconcile(System.nanoTime());
    for (int i = 0; i < n; i++) {
      assign("burst" + i + ".service", "m1");
    }
    runUntil(agent, () -> runtime.running().size() == n && reported("burst" + (n - 1) + ".service", "active"),
        n + " units running and reported");
    runFor(agent, TimeUnit.MILLISECONDS.toNanos(3_500)); // past the follow-up reads after the start

    // one unit: read alone, reported at once (the idle poll of a followed runtime is a minute away)
    long reads = agent.stateReads();
    long t0 = System.nanoTime();
    runtime.crash("burst7.service");
    runUntil(agent, () -> reported("burst7.service", "failed"), "burst7 reported failed");
    long tookMs = (System.nanoTime() - t0) / 1_000_000;
    System.out.println("fake runtime: crash to reported state in " + tookMs + " ms");
    assertThat(tookMs).isLessThan(2_000);
    assertThat(agent.stateReads() - reads).isEqualTo(1);
    assertThat(runtime.calls().get(runtime.calls().size() - 1)).isEqualTo("states 1");

    // a burst: one read of all of them
    var all = new ArrayList<String>();
    for (int i = 0; i < n; i++) {
      if (i != 7) {
        all.add("burst" + i + ".service");
      }
    }
    reads = agent.stateReads();
    runtime.crashAll(all);
    runUntil(agent, () -> all.stream().allMatch(u -> reported(u, "failed")), "the burst reported failed");
    assertThat(agent.stateReads() - reads).as("reads for a burst of %s changes", all.size()).isEqualTo(1);
    assertThat(runtime.calls().get(runtime.calls().size() - 1)).isEqualTo("states " + all.size());
  }

  @Test
  void duringABurstOfRoundsThatEachActStatesAreReadSoonAfterTheFirstAction() {
    runtime.feedDown(); // no change feed: only the reads that follow an action report the starts
    long t = System.nanoTime();
    agent.reconcile(t);
    for (int i = 0; i < 6; i++) {
      String unit = "wave" + i + ".service";
      submit(unit, "", DesiredState.LAUNCHED);
      assign(unit, "m1");
      // rounds from 150 ms (of the agent's clock) after the last wave's, each wave starting the unit just assigned
      long now = t + TimeUnit.MILLISECONDS.toNanos(150L * i);
      long starts = runtime.count("start");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (runtime.count("start") == starts) {
        agent.reconcile(now);
        if (System.nanoTime() > deadline) {
          throw new AssertionError("not within 20 s: " + unit + " started; runtime calls " + runtime.calls());
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        now += TimeUnit.MILLISECONDS.toNanos(5); // the agent's clock moves on too: it takes a change once quiet
      }
    }
    // the read due 0.2 s after the first start came due on the way, though every round acted
    assertThat(reported("wave0.service", "active")).as("runtime calls %s", runtime.calls()).isTrue();
  }

  @Test
  void whileTheRuntimeFollowsChangesNothingIsPolledAndWhenItsFeedIsDownStatesArePolledAgain() {
    submit("quiet.service", "", DesiredState.LAUNCHED);
    submit("other.service", "", DesiredState.LAUNCHED);
    submit("third.service", "", DesiredState.LAUNCHED);
    assign("quiet.service", "m1");
    assign("other.service", "m1");
    assign("third.service", "m1");
    runUntil(agent, () -> reported("third.service", "active") && reported("quiet.service", "active"), "running");
    runFor(agent, TimeUnit.MILLISECONDS.toNanos(3_500)); // past the follow-up reads after the start

    // a death the feed does not name: with the feed up, no poll finds it (statePoll is 200 ms here,
    // but a followed runtime is polled once a minute)
    long reads = agent.stateReads();
    runtime.crashUnseen("quiet.service");
    runFor(agent, TimeUnit.MILLISECONDS.toNanos(1_500));
    assertThat(agent.stateReads()).as("state reads while idle and followed").isEqualTo(reads);
    assertThat(reported("quiet.service", "active")).isTrue();

    // the feed goes down: states are polled every statePoll again
    runtime.feedDown();
    runUntil(agent, () -> reported("quiet.service", "failed"), "quiet.service found failed by a poll");
    runtime.crashUnseen("other.service");
    runUntil(agent, () -> reported("other.service", "failed"), "other.service found failed by a poll");

    // back, having missed a change: everything is read once
    runtime.crashUnseen("third.service");
    runtime.feedBack();
    runUntil(agent, () -> reported("third.service", "failed"), "third.service read after the feed came back");
  }
}
