package dev.flotilla.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.agent.e2e.FleetdHost;
import dev.flotilla.agent.runtime.systemd.Await;
import dev.flotilla.kv.cluster.KvdCluster;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The tour a new user would take, driven only from fctl: a 3-member kvd cluster (separate
 * processes), three machines that are each a real systemd as PID 1 of its own namespaces with a
 * fleetd process inside, talking to all three store members. fctl starts three instances of a
 * template web unit that conflict with each other, a Global unit and a unit that needs
 * {@code disk=ssd}; {@code fctl list-units} shows the placement, and systemctl inside each host
 * agrees. Then the host running the ssd unit dies: {@code fctl list-units} shows that unit moved
 * to the other ssd host, the Global unit on the two left, and the dead host's web instance
 * unplaceable, as {@code fctl why} explains.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ThreeHostTourTest {
  private static final Duration TTL = Duration.ofSeconds(4);
  private static final Duration WAIT = Duration.ofSeconds(60);

  private final List<FleetdHost> hosts = new ArrayList<>();
  private Path root;
  private KvdCluster store;
  private FleetdHost a;
  private FleetdHost b;
  private FleetdHost c;

  @BeforeAll
  void start() throws Exception {
    try {
      root = Files.createTempDirectory("flotilla-tour-");
      store = new KvdCluster(root.resolve("kvd"), 3);
      store.startAll();
      assertThat(store.awaitLeader(Duration.ofSeconds(30))).as("a kvd leader").isNotNull();
      List<URI> endpoints = store.clientUrls();
      Path logs = Path.of(System.getProperty("basedir", "."), "target", "fleetd-tour");
      a = started(FleetdHost.start("tour-a", endpoints, TTL, "disk=ssd", logs));
      b = started(FleetdHost.start("tour-b", endpoints, TTL, "disk=ssd", logs));
      c = started(FleetdHost.start("tour-c", endpoints, TTL, "disk=hdd", logs));
      for (FleetdHost h : hosts) {
        h.awaitPublished(Duration.ofSeconds(90));
      }
    } catch (Throwable t) {
      stop();
      throw t;
    }
  }

  private FleetdHost started(FleetdHost h) {
    hosts.add(h);
    return h;
  }

  @AfterAll
  void stop() throws Exception {
    try {
      for (FleetdHost h : hosts) {
        h.close();
      }
    } finally {
      if (store != null) {
        store.close();
      }
      dev.flotilla.kv.compat.EtcdProcess.deleteTree(root);
    }
  }

  @Test
  void startListAndSurviveAHostDeathFromTheCli() throws Exception {
    Path units = Files.createDirectories(root.resolve("units"));
    Files.writeString(units.resolve("web@.service"), """
        [Unit]
        Description=web server %i

        [Service]
        ExecStart=/bin/sleep infinity

        [X-Fleet]
        Conflicts=web@*.service
        """);
    Files.writeString(units.resolve("monitor.service"), """
        [Service]
        ExecStart=/bin/sleep infinity

        [X-Fleet]
        Global=true
        """);
    Files.writeString(units.resolve("db.service"), """
        [Service]
        ExecStart=/bin/sleep infinity

        [X-Fleet]
        MachineMetadata=disk=ssd
        """);
    // host c is never killed: fctl talks to its API throughout
    String endpoint = c.api().toString();
    Run machines = fctl(endpoint, "list-machines", "--full", "--no-legend");
    assertThat(machines.exit).as(machines.toString()).isZero();
    assertThat(machines.out).contains("tour-a", "tour-b", "tour-c");

    String[] start = {"start", units.resolve("web@1.service").toString(), units.resolve("web@2.service").toString(),
        units.resolve("web@3.service").toString(), units.resolve("monitor.service").toString(),
        units.resolve("db.service").toString()};
    Run started = fctl(endpoint, start);
    assertThat(started.exit).as(started.toString()).isZero();
    assertThat(fctl(endpoint, "list-unit-files", "--no-legend").out).contains("web@1.service", "db.service");

    Map<String, Set<String>> placed = awaitListUnits(endpoint, "every unit running",
        p -> p.keySet().equals(Set.of("web@1.service", "web@2.service", "web@3.service", "monitor.service",
            "db.service")) && p.get("monitor.service").size() == 3);
    Set<String> webHosts = new TreeSet<>();
    for (int i = 1; i <= 3; i++) {
      assertThat(placed.get("web@" + i + ".service")).hasSize(1);
      webHosts.addAll(placed.get("web@" + i + ".service"));
    }
    assertThat(webHosts).as("the web instances conflict with each other").containsExactly("tour-a", "tour-b", "tour-c");
    assertThat(placed.get("monitor.service")).containsExactlyInAnyOrder("tour-a", "tour-b", "tour-c");
    String dbHost = placed.get("db.service").iterator().next();
    assertThat(dbHost).as("db needs disk=ssd").isIn("tour-a", "tour-b");
    for (FleetdHost h : hosts) {
      for (Map.Entry<String, Set<String>> e : placed.entrySet()) {
        if (e.getValue().contains(h.machineId())) {
          assertThat(h.show(e.getKey(), "ActiveState", "SubState"))
              .as("systemctl on %s for %s", h.machineId(), e.getKey())
              .containsEntry("ActiveState", "active").containsEntry("SubState", "running");
        }
      }
    }

    // status and journal come from db's own host through the API of host c
    Run status = fctl(endpoint, "status", "db.service");
    assertThat(status.exit).as(status.toString()).isZero();
    assertThat(status.out).contains("db.service", "active (running)");
    Run journal = fctl(endpoint, "journal", "--lines", "5", "db.service");
    assertThat(journal.exit).as(journal.toString()).isZero();
    assertThat(journal.out).contains("Started db.service");

    FleetdHost dying = dbHost.equals("tour-a") ? a : b;
    FleetdHost otherSsd = dying == a ? b : a;
    String lostWeb = placed.entrySet().stream()
        .filter(e -> e.getKey().startsWith("web@") && e.getValue().contains(dying.machineId()))
        .map(Map.Entry::getKey).findFirst().orElseThrow();
    long killed = System.nanoTime();
    dying.killHost();

    Map<String, Set<String>> after = awaitListUnits(endpoint, "db moved off " + dying.machineId(),
        p -> p.getOrDefault("db.service", Set.of()).equals(Set.of(otherSsd.machineId()))
            && p.getOrDefault("monitor.service", Set.of()).equals(Set.of("tour-c", otherSsd.machineId()))
            && !p.containsKey(lostWeb));
    System.out.printf("tour: %s killed (agent TTL %d ms); fctl list-units showed db.service running on %s after %d ms%n",
        dying.machineId(), TTL.toMillis(), otherSsd.machineId(), (System.nanoTime() - killed) / 1_000_000);
    assertThat(after.values().stream().flatMap(Set::stream)).doesNotContain(dying.machineId());
    assertThat(otherSsd.show("db.service", "ActiveState", "SubState"))
        .containsEntry("ActiveState", "active").containsEntry("SubState", "running");
    Run why = fctl(endpoint, "why", lostWeb);
    assertThat(why.out).as(why.toString()).contains(lostWeb + " is not placed: conflicts on every eligible machine");

    Run destroyed = fctl(endpoint, "destroy", "web@1.service", "web@2.service", "web@3.service", "monitor.service",
        "db.service");
    assertThat(destroyed.exit).as(destroyed.toString()).isZero();
    awaitListUnits(endpoint, "nothing listed after destroy", Map::isEmpty);
  }

  /** Polls {@code fctl list-units} (the table a user reads) until {@code done}; unit → machines. */
  private Map<String, Set<String>> awaitListUnits(String endpoint, String what,
      java.util.function.Predicate<Map<String, Set<String>>> done) {
    return Await.until(WAIT, what + " in fctl list-units", () -> runningUnits(endpoint), p -> p != null && done.test(p));
  }

  /** What list-units shows running, or null while fleetd answers that its store is busy (503: try again). */
  private Map<String, Set<String>> runningUnits(String endpoint) {
    Run r = fctl(endpoint, "list-units", "--full", "--no-legend");
    if (r.exit != 0 && r.err.contains("(HTTP 503)")) {
      System.out.println("tour: list-units answered " + r.err.strip() + "; again");
      return null;
    }
    if (r.exit != 0) {
      throw new AssertionError(r.toString());
    }
    Map<String, Set<String>> placed = new TreeMap<>();
    for (String line : r.out.split("\n")) {
      String[] cols = line.trim().split("\t+");
      if (cols.length >= 4 && cols[2].equals("active") && cols[3].equals("running")) {
        // "<id>/<ip>", or the ID alone once the machine's record is gone (its states go with its lease)
        String machine = cols[1].contains("/") ? cols[1].substring(0, cols[1].indexOf('/')) : cols[1];
        placed.computeIfAbsent(cols[0], k -> new TreeSet<>()).add(machine);
      }
    }
    return placed;
  }

  private record Run(int exit, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exit + "\nstdout:\n" + out + "stderr:\n" + err;
    }
  }

  private static Run fctl(String endpoint, String... args) {
    // fleetds fresh out of a JVM start, on 2 cores shared with three kvds and three systemds
    List<String> all = new ArrayList<>(List.of("--endpoint", endpoint, "--request-timeout", "20"));
    all.addAll(List.of(args));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      int exit = Fctl.run(all.toArray(new String[0]), o, e, Map.of());
      return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
  }
}
