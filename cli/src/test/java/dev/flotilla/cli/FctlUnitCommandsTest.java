package dev.flotilla.cli;

import static dev.flotilla.cli.FleetFixture.M1;
import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.cli.FleetFixture.Run;
import dev.flotilla.scheduler.registry.DesiredState;
import dev.flotilla.scheduler.registry.RegistryEvent;
import dev.flotilla.scheduler.registry.RegistryWatch;
import dev.flotilla.scheduler.unit.UnitFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commands that change units (submit, load, start, stop, unload, destroy) and those that read
 * one (cat, why), against a real fleet API with the real engine placing units on one machine
 * (M1, 10.0.0.1); unit states are reported by the test as an agent would.
 */
class FctlUnitCommandsTest {
  private static final String HELLO = "# says hello\n[Unit]\nDescription=Hello\n\n[Service]\nExecStart=/bin/sleep 1000\n";
  private static final String TEMPLATE = "[Unit]\nDescription=Web %i\n\n[Service]\nExecStart=/bin/web --port %i\n";

  @TempDir
  Path dir;

  private FleetFixture fleet;

  @BeforeEach
  void start() throws IOException {
    fleet = new FleetFixture(null);
  }

  @AfterEach
  void stop() {
    fleet.close();
  }

  @Test
  void submitUploadsLocalFilesOnceAndWarnsWhenTheLocalFileDiffers() throws IOException {
    Path hello = write("hello.service", HELLO);
    Run r = fleet.fctl("submit", hello.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("Unit hello.service inactive\n");
    assertThat(fleet.registry.unit("hello.service").orElseThrow().value().desiredState())
        .isEqualTo(DesiredState.INACTIVE);
    assertThat(fleet.registry.unit("hello.service").orElseThrow().value().file()).isEqualTo(UnitFile.parse(HELLO));

    Run again = fleet.fctl("submit", hello.toString());
    assertThat(again.exit()).isZero();
    assertThat(again.out()).isEmpty(); // idempotent, as fleetctl
    assertThat(again.err()).isEmpty();

    Files.writeString(hello, HELLO.replace("1000", "2000"));
    Run differs = fleet.fctl("submit", hello.toString());
    assertThat(differs.exit()).isZero();
    assertThat(differs.err()).contains("WARNING: Unit hello.service in the cluster differs from local unit file " + hello);
    assertThat(fleet.registry.unit("hello.service").orElseThrow().value().file()).isEqualTo(UnitFile.parse(HELLO));
  }

  @Test
  void aNameWithoutTypeMeansAService() throws IOException {
    Path hello = write("hello.service", HELLO);
    Run r = fleet.fctl("submit", dir.resolve("hello").toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("Unit hello.service inactive\n");
    assertThat(fleet.fctl("cat", "hello").out()).isEqualTo(UnitFile.parse(Files.readString(hello)).serialize());
  }

  @Test
  void manyUnitsGoSideBySideAndAreReportedInArgumentOrder() throws IOException {
    write("web@.service", TEMPLATE);
    List<String> args = new ArrayList<>(List.of("start", "--no-block"));
    StringBuilder created = new StringBuilder();
    StringBuilder triggered = new StringBuilder();
    StringBuilder destroyed = new StringBuilder();
    for (int i = 1; i <= 40; i++) {
      args.add(dir.resolve("web@" + i + ".service").toString());
      created.append("Unit web@").append(i).append(".service inactive\n");
      triggered.append("Triggered unit web@").append(i).append(".service start\n");
    }
    RegistryWatch writes = fleet.registry.watch();
    Run r = fleet.fctl(args.toArray(new String[0]));
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo(created.toString() + triggered);
    // each unit created launched by its one request: 40 unit writes, not a creation and two steps each
    assertThat(writes.poll(1000)).filteredOn(e -> e instanceof RegistryEvent.UnitChanged).hasSize(40);
    for (int i = 1; i <= 40; i++) {
      assertThat(fleet.registry.unit("web@" + i + ".service").orElseThrow().value().desiredState())
          .isEqualTo(DesiredState.LAUNCHED);
      destroyed.append("Destroyed web@").append(i).append(".service\n");
    }
    Run gone = fleet.fctl("destroy", "web@*.service");
    assertThat(gone.exit()).as(gone.err()).isZero();
    // the glob selects in fleetd's (name) order
    assertThat(gone.out().lines().sorted().toList()).isEqualTo(destroyed.toString().lines().sorted().toList());
    assertThat(fleet.registry.units()).isEmpty();
  }

  @Test
  void againstAServerWithoutTheBatchEachUnitIsItsOwnPut() throws Exception {
    write("web@.service", TEMPLATE);
    List<String> requests = java.util.Collections.synchronizedList(new ArrayList<>());
    com.sun.net.httpserver.HttpServer fleetLike = withoutBatch(requests);
    try {
      String endpoint = "http://127.0.0.1:" + fleetLike.getAddress().getPort();
      List<String> args = new ArrayList<>(List.of("--endpoint", endpoint, "start", "--no-block"));
      for (int i = 1; i <= 3; i++) {
        args.add(dir.resolve("web@" + i + ".service").toString());
      }
      Run r = FleetFixture.run(args.toArray(new String[0]), java.util.Map.of());
      assertThat(r.exit()).as(r.err()).isZero();
      assertThat(r.out()).isEqualTo("Unit web@1.service inactive\nUnit web@2.service inactive\nUnit web@3.service inactive\n"
          + "Triggered unit web@1.service start\nTriggered unit web@2.service start\nTriggered unit web@3.service start\n");
      assertThat(requests).as("the batch asked for once, then fleet's own PUTs")
          .filteredOn(q -> q.startsWith("POST ")).containsExactly("POST /flotilla/v1/units");
      assertThat(requests).filteredOn(q -> q.startsWith("PUT "))
          .containsExactlyInAnyOrder("PUT /fleet/v1/units/web@1.service", "PUT /fleet/v1/units/web@2.service",
              "PUT /fleet/v1/units/web@3.service");
      for (int i = 1; i <= 3; i++) {
        assertThat(fleet.registry.unit("web@" + i + ".service").orElseThrow().value().desiredState())
            .isEqualTo(DesiredState.LAUNCHED);
      }
    } finally {
      fleetLike.stop(0);
    }
  }

  /**
   * A server with fleet's resources only, as fleet's own: in front of the fixture's API, it answers
   * Flotilla's batch resource with fleet's 404 and passes every other request through.
   */
  private com.sun.net.httpserver.HttpServer withoutBatch(List<String> requests) throws IOException {
    var server = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    var upstream = java.net.http.HttpClient.newHttpClient();
    server.createContext("/", exchange -> {
      try (exchange) {
        String path = exchange.getRequestURI().getRawPath();
        String query = exchange.getRequestURI().getRawQuery();
        requests.add(exchange.getRequestMethod() + " " + path);
        if (path.startsWith("/flotilla/")) {
          byte[] notFound = "404 page not found\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(404, notFound.length);
          exchange.getResponseBody().write(notFound);
          return;
        }
        byte[] body = exchange.getRequestBody().readAllBytes();
        var request = java.net.http.HttpRequest.newBuilder(
                java.net.URI.create(fleet.httpUrl + path + (query == null ? "" : "?" + query)))
            .method(exchange.getRequestMethod(), java.net.http.HttpRequest.BodyPublishers.ofByteArray(body));
        String type = exchange.getRequestHeaders().getFirst("Content-Type");
        if (type != null) {
          request.header("Content-Type", type);
        }
        var response = upstream.send(request.build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray());
        response.headers().firstValue("Content-Type").ifPresent(t -> exchange.getResponseHeaders().set("Content-Type", t));
        byte[] answer = response.body();
        exchange.sendResponseHeaders(response.statusCode(), answer.length == 0 ? -1 : answer.length);
        exchange.getResponseBody().write(answer);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    server.setExecutor(null); // one dispatcher thread: requests are answered one at a time
    server.start();
    return server;
  }

  @Test
  void startBlocksUntilTheAgentReportsTheUnitActive() throws Exception {
    Path hello = write("hello.service", HELLO);
    FleetFixture.Async start = fleet.fctlAsync("start", hello.toString());
    assertThat(fleet.awaitPlacement("hello.service")).isEqualTo(M1);
    // fctl says what it waits for, and waits: nothing is reported yet
    FleetFixture.await(() -> start.err().contains("waiting for it to be launched"), "fctl waiting for the agent");
    assertThat(start.result()).isNotDone();
    fleet.report("hello.service", M1, "loaded", "active", "running");
    Run r = start.result().get(20, TimeUnit.SECONDS);
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("Unit hello.service inactive\nUnit hello.service launched on 113f16a7.../10.0.0.1\n");
    assertThat(r.err()).contains("Unit hello.service is on 113f16a7.../10.0.0.1, inactive; waiting for it to be launched");

    // already launched: nothing to do, nothing said (fleetctl)
    Run again = fleet.fctl("start", "hello.service");
    assertThat(again.exit()).isZero();
    assertThat(again.out()).isEmpty();
  }

  @Test
  void noBlockOnlyTriggers() throws IOException {
    Path hello = write("hello.service", HELLO);
    Run r = fleet.fctl("start", "--no-block", hello.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("Unit hello.service inactive\nTriggered unit hello.service start\n");
    assertThat(fleet.registry.unit("hello.service").orElseThrow().value().desiredState())
        .isEqualTo(DesiredState.LAUNCHED);
  }

  @Test
  void blockAttemptsGiveUpWithTheEnginesReason() throws IOException {
    Path pinned = write("pinned.service", "[Service]\nExecStart=/bin/true\n[X-Fleet]\nMachineMetadata=region=mars\n");
    Run r = fleet.fctl("start", "--block-attempts", "3", pinned.toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("Unit pinned.service is not placed yet: no machine has metadata region=mars");
    assertThat(r.err()).contains(
        "fctl: timed out waiting for unit pinned.service to be launched after 3 attempts (it is inactive); "
            + "see 'fctl why pinned.service'");

    Run why = fleet.fctl("why", "pinned.service");
    assertThat(why.exit()).isZero();
    assertThat(why.out()).isEqualTo("pinned.service is not placed: no machine has metadata region=mars\n");
  }

  @Test
  void loadStopAndUnloadWaitForTheirStates() throws Exception {
    Path hello = write("hello.service", HELLO);
    CompletableFuture<Run> load = CompletableFuture.supplyAsync(() -> fleet.fctl("load", hello.toString()));
    fleet.awaitPlacement("hello.service");
    fleet.report("hello.service", M1, "loaded", "inactive", "dead");
    Run loaded = load.get(20, TimeUnit.SECONDS);
    assertThat(loaded.exit()).as(loaded.err()).isZero();
    assertThat(loaded.out()).isEqualTo("Unit hello.service inactive\nUnit hello.service loaded on 113f16a7.../10.0.0.1\n");

    CompletableFuture<Run> start = CompletableFuture.supplyAsync(() -> fleet.fctl("start", "hello.service"));
    FleetFixture.await(() -> fleet.registry.unit("hello.service").orElseThrow().value().desiredState()
        == DesiredState.LAUNCHED, "desired launched");
    fleet.report("hello.service", M1, "loaded", "active", "running");
    assertThat(start.get(20, TimeUnit.SECONDS).out()).isEqualTo("Unit hello.service launched on 113f16a7.../10.0.0.1\n");

    CompletableFuture<Run> stop = CompletableFuture.supplyAsync(() -> fleet.fctl("stop", "hello.service"));
    FleetFixture.await(() -> fleet.registry.unit("hello.service").orElseThrow().value().desiredState()
        == DesiredState.LOADED, "desired loaded");
    fleet.report("hello.service", M1, "loaded", "inactive", "dead");
    Run stopped = stop.get(20, TimeUnit.SECONDS);
    assertThat(stopped.exit()).as(stopped.err()).isZero();
    assertThat(stopped.out()).isEqualTo("Unit hello.service loaded on 113f16a7.../10.0.0.1\n");

    // unload: the engine unschedules it, which is what "inactive" means to fleet
    Run unloaded = fleet.fctl("unload", "hello.service");
    assertThat(unloaded.exit()).as(unloaded.err()).isZero();
    assertThat(unloaded.out()).isEqualTo("Unit hello.service inactive\n");
    assertThat(fleet.registry.assignments()).doesNotContainKey("hello.service");

    Run stopInactive = fleet.fctl("stop", "hello.service");
    assertThat(stopInactive.exit()).isEqualTo(1);
    assertThat(stopInactive.err()).isEqualTo("fctl: cannot stop unit hello.service: it is not loaded (desired state "
        + "inactive); start it with 'fctl start hello.service' or leave it out\n");
  }

  @Test
  void instancesAreCreatedFromASubmittedTemplate() throws IOException {
    Path template = write("web@.service", TEMPLATE);
    assertThat(fleet.fctl("submit", template.toString()).exit()).isZero();
    Run r = fleet.fctl("start", "--no-block", "web@8080.service", "web@8081");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("Unit web@8080.service inactive\nUnit web@8081.service inactive\n"
        + "Triggered unit web@8080.service start\nTriggered unit web@8081.service start\n");
    assertThat(fleet.fctl("cat", "web@8080.service").out()).isEqualTo(UnitFile.parse(TEMPLATE).serialize());
    assertThat(fleet.registry.unit("web@.service").orElseThrow().value().desiredState()).isEqualTo(DesiredState.INACTIVE);
  }

  @Test
  void instancesAreCreatedFromALocalTemplateFile() throws IOException {
    write("web@.service", TEMPLATE);
    Run r = fleet.fctl("load", "--no-block", dir.resolve("web@1.service").toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("Unit web@1.service inactive\nTriggered unit web@1.service load\n");
    assertThat(fleet.registry.unit("web@1.service").orElseThrow().value().file()).isEqualTo(UnitFile.parse(TEMPLATE));
    assertThat(fleet.registry.unit("web@.service")).isEmpty(); // as fleetctl: only the instance is created

    // a template given with its instances is submitted, never started
    Run both = fleet.fctl("start", "--no-block", dir.resolve("web@.service").toString(), dir.resolve("web@2").toString());
    assertThat(both.exit()).as(both.err()).isZero();
    assertThat(both.out()).isEqualTo("Unit web@.service inactive\nUnit web@2.service inactive\n"
        + "Triggered unit web@2.service start\n");
    assertThat(both.err()).contains("Unit web@.service is a template: submitted, not started");

    Run none = fleet.fctl("start", "db@1.service");
    assertThat(none.exit()).isEqualTo(1);
    assertThat(none.err()).isEqualTo("fctl: unit db@1.service is not in the cluster, nor is its template db@.service, "
        + "and there is no file db@1.service or db@.service; submit the template first\n");
  }

  @Test
  void globsSelectUnitsInTheCluster() throws IOException {
    write("web@.service", TEMPLATE);
    Path a = write("a.service", HELLO);
    assertThat(fleet.fctl("submit", dir.resolve("web@.service").toString(), dir.resolve("web@1.service").toString(),
        dir.resolve("web@2.service").toString(), a.toString()).exit()).isZero();

    Run started = fleet.fctl("start", "--no-block", "web@*");
    assertThat(started.exit()).as(started.err()).isZero();
    assertThat(started.out()).isEqualTo("Triggered unit web@1.service start\nTriggered unit web@2.service start\n");

    Run stopped = fleet.fctl("stop", "--no-block", "web@?.service");
    assertThat(stopped.out()).isEqualTo("Triggered unit web@1.service stop\nTriggered unit web@2.service stop\n");

    fleet.awaitPlacement("web@1.service");
    Run why = fleet.fctl("why", "*");
    assertThat(why.out()).contains("a.service is not placed: its desired state is inactive",
        "web@.service is a template", "web@1.service is placed on 113f16a7.../10.0.0.1 (desired loaded, current inactive)");

    Run none = fleet.fctl("destroy", "db*", "nope.service");
    assertThat(none.exit()).isEqualTo(1);
    assertThat(none.err()).isEqualTo("fctl: unit nope.service does not exist; no unit matches 'db*'; "
        + "see the units with 'fctl list-unit-files'\n");

    Run destroyed = fleet.fctl("destroy", "web@*", "a");
    assertThat(destroyed.exit()).as(destroyed.err()).isZero();
    assertThat(destroyed.out()).isEqualTo(
        "Destroyed web@.service\nDestroyed web@1.service\nDestroyed web@2.service\nDestroyed a.service\n");
    assertThat(fleet.registry.units()).isEmpty();
  }

  @Test
  void destroyChangesNothingWhenOneUnitIsUnknown() throws IOException {
    Path a = write("a.service", HELLO);
    assertThat(fleet.fctl("submit", a.toString()).exit()).isZero();
    Run r = fleet.fctl("destroy", "a.service", "b.service");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("fctl: unit b.service does not exist; see the units with 'fctl list-unit-files'\n");
    assertThat(r.out()).isEmpty();
    assertThat(fleet.registry.unit("a.service")).isPresent();
  }

  @Test
  void catPrintsTheUnitAsTheClusterHasIt() throws IOException {
    Path hello = write("hello.service", HELLO);
    fleet.fctl("submit", hello.toString());
    Run r = fleet.fctl("cat", "hello.service");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).isEqualTo("[Unit]\nDescription=Hello\n\n[Service]\nExecStart=/bin/sleep 1000\n");
    Run json = fleet.fctl("cat", "--output", "json", "hello.service");
    assertThat(json.out()).contains("\"name\" : \"hello.service\"", "\"desiredState\" : \"inactive\"");
    Run missing = fleet.fctl("cat", "nope.service");
    assertThat(missing.exit()).isEqualTo(1);
    assertThat(missing.err()).isEqualTo("fctl: unit nope.service does not exist; see the units with 'fctl list-unit-files'\n");
  }

  @Test
  void whySaysWhereAUnitIsOrWhyNot() throws Exception {
    Path hello = write("hello.service", HELLO);
    assertThat(fleet.fctl("start", "--no-block", hello.toString()).exit()).isZero();
    fleet.awaitPlacement("hello.service");
    Run placed = fleet.fctl("why", "hello");
    assertThat(placed.out()).isEqualTo("hello.service is placed on 113f16a7.../10.0.0.1 (desired launched, current "
        + "inactive); waiting for the agent there to report it launched\n");
    fleet.report("hello.service", M1, "loaded", "active", "running");
    assertThat(fleet.fctl("why", "hello").out())
        .isEqualTo("hello.service is placed on 113f16a7.../10.0.0.1 (desired launched, current launched)\n");
    Run json = fleet.fctl("--output", "json", "why", "hello");
    assertThat(json.out()).contains("\"machineID\" : \"" + M1 + "\"");
  }

  @Test
  void versionNeedsNoFleetd() {
    Run r = FleetFixture.run(new String[] {"--endpoint", "http://127.0.0.1:1", "version"}, java.util.Map.of());
    assertThat(r.exit()).isZero();
    assertThat(r.out()).matches("fctl version \\S+\n").doesNotContain("unknown");
    assertThat(FleetFixture.run(new String[] {"--version"}, java.util.Map.of()).out()).isEqualTo(r.out());
  }

  private Path write(String name, String text) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, text);
    return p;
  }
}
