package dev.flotilla.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.flotilla.agent.e2e.FleetHttp.State;
import dev.flotilla.agent.e2e.FleetHttp.Unit;
import dev.flotilla.agent.runtime.systemd.Await;
import dev.flotilla.kv.client.KeyRange;
import dev.flotilla.kv.client.KeyValue;
import dev.flotilla.kv.client.StoreClient;
import dev.flotilla.kv.embed.EmbeddedKv;
import dev.flotilla.kv.embed.KvConfig;
import dev.flotilla.scheduler.registry.store.RegistryKeys;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * fleetd end to end: three machines, each a real systemd as PID 1 of its own namespaces with a
 * real fleetd process inside ({@link FleetdHost}), sharing one kvd; units go in through the
 * fleet API v1 over HTTP, and {@code systemctl} inside each host checks what fleet reports.
 *
 * <p>Hosts a and b run with a 3 s agent TTL (the failover test kills one of them); host c with
 * 15 s, so that a fleetd restart (a JVM start: about 2.5 s on an idle 2-core machine, more under
 * load) fits in its lease, as a production TTL (fleet's default: 30 s) is meant to. The tests run
 * in order on the same hosts; each destroys its units afterwards.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FleetdEndToEndTest {
  private static final Duration TTL = Duration.ofSeconds(3);
  private static final Duration RESTART_TTL = Duration.ofSeconds(15);
  private static final Duration WAIT = Duration.ofSeconds(30);
  /** The issue's failover target is 1.2 × TTL; CI on 2 shared cores is held to this instead. */
  private static final Duration FAILOVER_BOUND = TTL.multipliedBy(2).plusSeconds(2);
  /**
   * The issue's target is 1 s (the systemd runtime follows PID 1's journal: ~0.3-0.6 s measured);
   * CI on 2 shared cores is held to 2 s.
   */
  private static final Duration STATE_LAG_BOUND = Duration.ofSeconds(2);
  private static final String SLEEPER = "[Service]\nExecStart=/bin/sleep infinity\n";
  private static final String[] SHOWN = {"LoadState", "ActiveState", "SubState", "MainPID"};

  private final FleetHttp fleet = new FleetHttp();
  private final List<FleetdHost> hosts = new ArrayList<>();
  private final List<String> submitted = new ArrayList<>();
  private Path storeDir;
  private EmbeddedKv store;
  private StoreClient storeClient;
  private FleetdHost a;
  private FleetdHost b;
  private FleetdHost c;

  @RegisterExtension
  final TestWatcher printLogsOnFailure = new TestWatcher() {
    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
      for (FleetdHost h : hosts) {
        System.err.printf("---- fleetd %s (%s), last lines of %s:%n%s%n", h.machineId(),
            h.hostAlive() ? "host up" : "host killed", h.logFile(), h.logTail(60));
      }
    }
  };

  @BeforeAll
  void startCluster() throws Exception {
    try {
      storeDir = Files.createTempDirectory("flotilla-e2e-store-");
      URI peer = URI.create("http://127.0.0.1:" + freePort());
      store = EmbeddedKv.start(KvConfig.builder(storeDir.resolve("data"))
          .name("e2e")
          .listenClientUrl("http://127.0.0.1:0")
          .listenPeerUrls(List.of(peer))
          .initialAdvertisePeerUrls(List.of(peer))
          .initialCluster("e2e=" + peer)
          .build());
      store.ready().join();
      storeClient = store.storeClient();
      URI url = store.clientUrls().get(0);
      Path logs = Path.of(System.getProperty("basedir", "."), "target", "fleetd-e2e");
      // each fleetd starts while the next host boots
      a = started(FleetdHost.start("host-a", url, TTL, "name=a,zone=east", logs));
      b = started(FleetdHost.start("host-b", url, TTL, "name=b,zone=east,disk=ssd", logs));
      c = started(FleetdHost.start("host-c", url, RESTART_TTL, "name=c,zone=west", logs));
      for (FleetdHost h : hosts) {
        h.awaitPublished(Duration.ofSeconds(90));
      }
      Await.until(WAIT, "all three machines in /fleet/v1/machines", () -> new TreeSet<>(fleet.machines(a.api())),
          m -> m.equals(Set.of("host-a", "host-b", "host-c")));
    } catch (Throwable t) {
      stopCluster();
      throw t;
    }
  }

  private FleetdHost started(FleetdHost h) {
    hosts.add(h);
    return h;
  }

  @AfterAll
  void stopCluster() {
    List<RuntimeException> failures = new ArrayList<>();
    for (FleetdHost h : hosts) {
      try {
        h.close();
      } catch (RuntimeException e) {
        failures.add(e);
      }
    }
    try {
      if (storeClient != null) {
        storeClient.close();
      }
    } finally {
      if (store != null) {
        store.close();
      }
    }
    if (storeDir != null) {
      dev.flotilla.kv.compat.EtcdProcess.deleteTree(storeDir);
    }
    if (!failures.isEmpty()) {
      throw failures.get(0);
    }
  }

  @AfterEach
  void destroySubmittedUnits() {
    URI api = liveApi();
    submitted.forEach(u -> fleet.destroy(api, u));
    submitted.clear();
  }

  @Test
  @Order(1)
  void conflictsSpreadGlobalRunsEverywhereMetadataPicksItsHostAndSystemdAgreesWithFleet() {
    List<String> web = List.of("web@1.service", "web@2.service", "web@3.service");
    web.forEach(u -> submit(u, SLEEPER + "[X-Fleet]\nConflicts=web@*.service\n"));
    submit("everywhere.service", SLEEPER + "[X-Fleet]\nGlobal=true\n");
    submit("ssd.service", SLEEPER + "[X-Fleet]\nMachineMetadata=disk=ssd\n");

    Map<String, Set<String>> where = awaitRunningAsFleetSays(submitted);

    assertThat(web.stream().map(where::get).toList())
        .as("each web@ instance on one machine").allSatisfy(m -> assertThat(m).hasSize(1));
    assertThat(web.stream().flatMap(u -> where.get(u).stream()).collect(Collectors.toSet()))
        .as("Conflicts=web@*.service: three instances on three machines")
        .containsExactlyInAnyOrder("host-a", "host-b", "host-c");
    assertThat(where.get("everywhere.service")).as("Global=true").containsExactlyInAnyOrder("host-a", "host-b",
        "host-c");
    assertThat(where.get("ssd.service")).as("MachineMetadata=disk=ssd").containsExactly("host-b");
    // and nowhere else: no other host's systemd runs them
    for (FleetdHost h : hosts) {
      for (String u : List.of("web@1.service", "web@2.service", "web@3.service", "ssd.service")) {
        if (!where.get(u).contains(h.machineId())) {
          assertThat(h.show(u, "ActiveState").get("ActiveState")).as("%s on %s", u, h.machineId())
              .isEqualTo("inactive");
        }
      }
    }
  }

  @Test
  @Order(2)
  void aUnitThatDiesOrIsStoppedBehindFleetsBackIsReportedSoon() {
    submit("lag-kill.service", SLEEPER + "[X-Fleet]\nMachineMetadata=name=a\n");
    submit("lag-stop.service", SLEEPER + "[X-Fleet]\nMachineMetadata=name=a\n");
    awaitRunningAsFleetSays(submitted);
    Map<String, String> kill = a.show("lag-kill.service", "MainPID", "ActiveEnterTimestampMonotonic");
    // Right after an action the agent reads states again at 0.2, 1 and 3 s; what is measured is the
    // change seen through systemd's journal, so the units change only after those (systemd's and
    // nanoTime's clock is the same).
    long settled = Long.parseLong(kill.get("ActiveEnterTimestampMonotonic")) * 1_000 + 3_500_000_000L;
    while (System.nanoTime() < settled) {
      LockSupport.parkNanos(settled - System.nanoTime());
    }

    assertThat(a.systemd().exec("systemctl", "stop", "lag-stop.service").exitCode()).isZero();
    // systemd forgets the timestamps of an inactive unit nothing refers to: the stop's end it is
    long stoppedAt = System.nanoTime();
    assertThat(a.systemd().exec("kill", "-9", kill.get("MainPID")).exitCode()).isZero();

    Map<String, State> expected = Map.of(
        "lag-kill.service", new State("lag-kill.service", "host-a", "loaded", "failed", "failed"),
        "lag-stop.service", new State("lag-stop.service", "host-a", "loaded", "inactive", "dead"));
    Map<String, Long> seenAt = new HashMap<>();
    long deadline = System.nanoTime() + STATE_LAG_BOUND.plus(WAIT).toNanos();
    while (seenAt.size() < expected.size() && System.nanoTime() < deadline) {
      List<State> states = fleet.states(c.api());
      long now = System.nanoTime();
      for (State s : states) {
        if (s.equals(expected.get(s.unit()))) {
          seenAt.putIfAbsent(s.unit(), now);
        }
      }
      pause();
    }
    assertThat(seenAt).as("units whose new state fleet reported; %s", fleet.states(c.api()))
        .containsOnlyKeys(expected.keySet());
    Map<String, Map<String, String>> sd = a.showAll(List.copyOf(expected.keySet()), "ActiveState", "SubState",
        "InactiveEnterTimestampMonotonic");
    Map<String, Long> changedAt = Map.of(
        "lag-kill.service", Long.parseLong(sd.get("lag-kill.service").get("InactiveEnterTimestampMonotonic")) * 1_000,
        "lag-stop.service", stoppedAt);
    for (String u : expected.keySet()) {
      assertThat(sd.get(u).get("ActiveState") + "/" + sd.get(u).get("SubState")).as("%s in systemd", u)
          .isEqualTo(expected.get(u).active() + "/" + expected.get(u).sub());
      long lagMs = (seenAt.get(u) - changedAt.get(u)) / 1_000_000;
      System.out.printf("state lag %s: fleet showed %s/%s %d ms after systemd (target 1000 ms, bound %d ms)%n",
          u, expected.get(u).active(), expected.get(u).sub(), lagMs, STATE_LAG_BOUND.toMillis());
      assertThat(lagMs).as("%s: ms from systemd's change to fleet's report", u)
          .isBetween(0L, STATE_LAG_BOUND.toMillis());
    }
  }

  @Test
  @Order(3)
  void theUnitsOfAKilledHostRunOnAnotherWithinTheAgentTtl() {
    List<String> movable = List.of("move@1.service", "move@2.service", "move@3.service", "move@4.service");
    movable.forEach(u -> submit(u, SLEEPER + "[X-Fleet]\nMachineMetadata=zone=east\n"));
    submit("everywhere-2.service", SLEEPER + "[X-Fleet]\nGlobal=true\n");
    Map<String, Set<String>> where = awaitRunningAsFleetSays(submitted);
    // the victim: whichever of the two zone=east hosts (both with the short TTL) runs more of them
    FleetdHost victim = Stream.of(a, b)
        .max(Comparator.comparingLong(h -> movable.stream().filter(u -> where.get(u).contains(h.machineId())).count()))
        .orElseThrow();
    FleetdHost survivor = victim == a ? b : a;
    List<String> moved = movable.stream().filter(u -> where.get(u).contains(victim.machineId())).toList();
    assertThat(moved).isNotEmpty();

    String leaderBefore = engineLeader();
    long killedAt = victim.killHost();

    long machineGoneAt = -1;
    long fleetShowsAt = -1;
    long deadline = killedAt + FAILOVER_BOUND.plus(WAIT).toNanos();
    List<State> states = List.of();
    Map<String, String> assigned = Map.of();
    while (System.nanoTime() < deadline) {
      if (machineGoneAt < 0 && !fleet.machines(c.api()).contains(victim.machineId())) {
        machineGoneAt = System.nanoTime();
      }
      assigned = fleet.units(c.api()).stream().collect(Collectors.toMap(Unit::name, Unit::machineId));
      states = fleet.states(c.api());
      long now = System.nanoTime();
      Set<String> runningOnSurvivor = states.stream()
          .filter(s -> s.machineId().equals(survivor.machineId()) && s.active().equals("active")
              && s.sub().equals("running"))
          .map(State::unit).collect(Collectors.toSet());
      boolean victimGone = states.stream().noneMatch(s -> s.machineId().equals(victim.machineId()));
      Map<String, String> finalAssigned = assigned;
      if (victimGone && runningOnSurvivor.containsAll(moved)
          && moved.stream().allMatch(u -> survivor.machineId().equals(finalAssigned.get(u)))) {
        fleetShowsAt = now;
        break;
      }
      pause();
    }
    assertThat(fleetShowsAt).as("fleet shows %s active/running on %s and nothing on %s; states %s, assigned %s",
        moved, survivor.machineId(), victim.machineId(), states, assigned).isPositive();

    long startedAt = 0;
    for (String u : moved) {
      Map<String, String> sd = survivor.show(u, "ActiveState", "SubState", "MainPID", "ActiveEnterTimestampMonotonic");
      assertThat(sd.get("ActiveState") + "/" + sd.get("SubState")).as("%s on %s", u, survivor.machineId())
          .isEqualTo("active/running");
      assertThat(Long.parseLong(sd.get("MainPID"))).isPositive();
      startedAt = Math.max(startedAt, Long.parseLong(sd.get("ActiveEnterTimestampMonotonic")) * 1_000);
    }
    long failoverMs = (startedAt - killedAt) / 1_000_000;
    System.out.printf("failover of %s from %s to %s (agent TTL %d ms, target 1.2 x TTL = %d ms, bound %d ms; "
            + "engine leader %s, then %s): machine gone from the registry after %d ms, units active in systemd "
            + "after %d ms, fleet's state showed them after %d ms%n",
        moved, victim.machineId(), survivor.machineId(), TTL.toMillis(), TTL.toMillis() * 12 / 10,
        FAILOVER_BOUND.toMillis(), leaderBefore, engineLeader(),
        machineGoneAt < 0 ? -1 : (machineGoneAt - killedAt) / 1_000_000, failoverMs,
        (fleetShowsAt - killedAt) / 1_000_000);
    assertThat(failoverMs).as("ms from the host's SIGKILL to its units active elsewhere")
        .isBetween(0L, FAILOVER_BOUND.toMillis());
    assertThat((fleetShowsAt - killedAt) / 1_000_000).as("ms until fleet's state shows it")
        .isLessThanOrEqualTo(FAILOVER_BOUND.plus(STATE_LAG_BOUND).toMillis());
    // the global unit stays where it was on the living hosts
    assertThat(states.stream().filter(s -> s.unit().equals("everywhere-2.service")).map(State::machineId))
        .containsExactlyInAnyOrder(survivor.machineId(), c.machineId());
  }

  @Test
  @Order(4)
  void aKilledAndRestartedFleetdLeavesItsRunningUnitsAloneAndReportsAgain() {
    List<String> mine = List.of("keep@1.service", "keep@2.service", "everywhere-3.service");
    submit("keep@1.service", SLEEPER + "[X-Fleet]\nMachineMetadata=name=c\n");
    submit("keep@2.service", SLEEPER + "[X-Fleet]\nMachineMetadata=name=c\n");
    submit("everywhere-3.service", SLEEPER + "[X-Fleet]\nGlobal=true\n");
    awaitRunningAsFleetSays(submitted);
    String[] identity = {"ActiveState", "SubState", "MainPID", "NRestarts", "ActiveEnterTimestampMonotonic",
        "InvocationID"};
    Map<String, Map<String, String>> before = c.showAll(mine, identity);
    long oldLease = lease(storeKeys().machine(c.machineId()));

    c.killFleetd();
    assertThat(c.showAll(mine, identity)).as("right after fleetd's kill -9").isEqualTo(before);
    long restartedAt = System.nanoTime();
    c.restartFleetd();
    // Until the new agent has re-reported every state under its own presence lease, the cluster
    // must go on seeing the machine and keeping the units there: a restart within the TTL is no failover.
    URI other = Stream.of(a, b).filter(FleetdHost::hostAlive).findFirst().orElseThrow().api();
    List<String> lapses = new ArrayList<>();
    long publishedAt = -1;
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      if (lapses.size() < 20 && !fleet.machines(other).contains(c.machineId())) {
        lapses.add("machine absent " + (System.nanoTime() - restartedAt) / 1_000_000 + " ms after the restart");
      }
      fleet.units(other).stream().filter(u -> u.name().startsWith("keep@") && !u.machineId().equals(c.machineId()))
          .forEach(u -> lapses.add(u.name() + " assigned to '" + u.machineId() + "'"));
      if (publishedAt < 0 && c.published()) {
        publishedAt = System.nanoTime();
      }
      long machineLease = lease(storeKeys().machine(c.machineId()));
      List<Long> stateLeases = mine.stream().map(u -> lease(storeKeys().state(u, c.machineId()))).toList();
      if (publishedAt > 0 && machineLease != 0 && machineLease != oldLease
          && stateLeases.stream().allMatch(l -> l == machineLease)) {
        break;
      }
      assertThat(c.fleetdAlive()).as("restarted fleetd runs; its log:%n%s", c.logSinceLastStart()).isTrue();
      assertThat(System.nanoTime()).as("the restarted agent's states of %s under its new lease %d (old %d): %s",
          mine, machineLease, oldLease, stateLeases).isLessThan(deadline);
      pause();
    }
    System.out.printf("fleetd on %s restarted and published its machine in %d ms (agent TTL %d ms)%n",
        c.machineId(), (publishedAt - restartedAt) / 1_000_000, RESTART_TTL.toMillis());
    assertThat(lapses).as("while fleetd restarted").isEmpty();
    Map<String, Set<String>> where = awaitRunningAsFleetSays(mine);
    assertThat(where.get("keep@1.service")).containsExactly(c.machineId());
    assertThat(where.get("keep@2.service")).containsExactly(c.machineId());
    assertThat(c.showAll(mine, identity)).as("MainPID, NRestarts, ActiveEnterTimestamp, InvocationID after "
        + "fleetd's restart: not restarted").isEqualTo(before);
    assertThat(c.logSinceLastStart()).contains("units installed by an earlier agent");
    assertThat(c.logSinceLastStart()).doesNotContain("starting [");

    // and it is this agent that reports: a change behind fleet's back shows
    assertThat(c.systemd().exec("systemctl", "stop", "keep@2.service").exitCode()).isZero();
    Await.until(STATE_LAG_BOUND, "keep@2.service inactive/dead in fleet's state",
        () -> fleet.states(c.api()).stream().filter(s -> s.unit().equals("keep@2.service")).toList(),
        s -> s.equals(List.of(new State("keep@2.service", c.machineId(), "loaded", "inactive", "dead"))));
  }

  // ---- helpers

  private void submit(String unit, String file) {
    fleet.submit(liveApi(), unit, file, "launched");
    submitted.add(unit);
  }

  /** Where fleet says units run (unit → machines), or what keeps fleet and systemd from agreeing. */
  private record Agreement(Map<String, Set<String>> where, String disagreement) {
    @Override
    public String toString() {
      return disagreement;
    }
  }

  /**
   * Waits until every unit of {@code units} is active/running wherever fleet's state says it is
   * (each non-global unit on the machine it is assigned to), and {@code systemctl show} inside
   * each of those hosts says the same load, active and sub state, with a main PID; returns unit →
   * machines.
   */
  private Map<String, Set<String>> awaitRunningAsFleetSays(List<String> units) {
    List<String> wanted = List.copyOf(units);
    return Await.until(WAIT.multipliedBy(2), "fleet and systemd to agree that " + wanted + " run",
        () -> agreement(wanted), r -> r.disagreement().isEmpty()).where();
  }

  private Agreement agreement(List<String> wanted) {
    URI api = liveApi();
    Map<String, String> assigned = new HashMap<>();
    fleet.units(api).forEach(u -> assigned.put(u.name(), u.machineId()));
    List<State> states = fleet.states(api).stream().filter(s -> wanted.contains(s.unit())).toList();
    Map<String, Set<String>> where = new TreeMap<>();
    for (State s : states) {
      if (!s.active().equals("active") || !s.sub().equals("running")) {
        return new Agreement(where, "fleet reports " + s);
      }
      where.computeIfAbsent(s.unit(), k -> new TreeSet<>()).add(s.machineId());
    }
    for (String u : wanted) {
      String m = assigned.getOrDefault(u, "");
      if (!where.containsKey(u) || (!m.isEmpty() && !where.get(u).equals(Set.of(m)))) {
        return new Agreement(where, "fleet has " + u + " assigned to '" + m + "', reported on " + where.get(u));
      }
    }
    // systemd inside each host: one systemctl per host
    Map<String, List<String>> byMachine = new TreeMap<>();
    where.forEach((u, ms) -> ms.forEach(m -> byMachine.computeIfAbsent(m, k -> new ArrayList<>()).add(u)));
    for (var e : byMachine.entrySet()) {
      FleetdHost h = host(e.getKey());
      Map<String, Map<String, String>> sd = h.showAll(e.getValue(), SHOWN);
      for (State s : states) {
        Map<String, String> p = sd.get(s.unit());
        if (s.machineId().equals(h.machineId()) && (!p.get("LoadState").equals(s.load())
            || !p.get("ActiveState").equals(s.active()) || !p.get("SubState").equals(s.sub())
            || p.get("MainPID").equals("0"))) {
          return new Agreement(where, "systemd on " + h.machineId() + " shows " + s.unit() + " " + p + ", fleet " + s);
        }
      }
    }
    return new Agreement(where, "");
  }

  private FleetdHost host(String machineId) {
    return hosts.stream().filter(h -> h.machineId().equals(machineId)).findFirst()
        .orElseThrow(() -> new AssertionError("fleet names machine " + machineId + ", not one of ours"));
  }

  /** The API of a fleetd that runs (c's, unless it is down). */
  private URI liveApi() {
    return Stream.of(c, a, b).filter(h -> h != null && h.hostAlive() && h.fleetdAlive()).findFirst()
        .orElseThrow(() -> new IllegalStateException("no fleetd runs")).api();
  }

  private RegistryKeys storeKeys() {
    return new RegistryKeys(RegistryKeys.DEFAULT_PREFIX);
  }

  /** Which machine's engine leads (its key in the store), or "none". */
  private String engineLeader() {
    return storeClient.get(KeyRange.key(RegistryKeys.DEFAULT_PREFIX + "engine/leader")).first()
        .map(KeyValue::valueUtf8).orElse("none");
  }

  /** The lease a key is attached to (0: none, or no such key). */
  private long lease(ByteString key) {
    return storeClient.get(KeyRange.key(key)).first().map(KeyValue::lease).orElse(0L);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void pause() {
    try {
      Thread.sleep(20);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted");
    }
  }
}
