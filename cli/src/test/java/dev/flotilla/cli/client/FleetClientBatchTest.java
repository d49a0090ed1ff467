package dev.flotilla.cli.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.scheduler.api.FleetApi;
import dev.flotilla.scheduler.api.FleetApiServer;
import dev.flotilla.scheduler.registry.DesiredState;
import dev.flotilla.scheduler.registry.memory.MemoryRegistry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Many units at once against the real fleet API server (in-memory registry, loopback HTTP):
 * {@link FleetClient#putAll}, many unit PUTs as one Flotilla batch request, each unit's failure as
 * its own PUT would have given it, and against a server without the batch (fleet itself) no batch
 * at all; {@link FleetClient#unitsNamed}, lookups that read the listing only as far as it pays.
 */
class FleetClientBatchTest {
  private static final List<FleetSchema.UnitOption> SLEEP = List.of(
      new FleetSchema.UnitOption("Service", "ExecStart", "/bin/sleep infinity"));

  private final MemoryRegistry registry = new MemoryRegistry(System::nanoTime);
  private FleetApiServer server;
  private Recording http;
  private FleetClient client;

  /** The real client's requests, recorded; {@code asFleet}: the batch resource answers 404, as fleet's server does. */
  private static final class Recording implements FleetHttp {
    final FleetHttp inner;
    final List<String> requests = Collections.synchronizedList(new ArrayList<>());
    volatile boolean asFleet;

    Recording(FleetHttp inner) {
      this.inner = inner;
    }

    @Override
    public Response send(String method, String pathAndQuery, byte[] jsonBody) {
      requests.add(method + " " + pathAndQuery);
      if (asFleet && pathAndQuery.startsWith("/flotilla/")) {
        return new Response(404, "404 page not found\n".getBytes());
      }
      return inner.send(method, pathAndQuery, jsonBody);
    }

    @Override
    public void close() {
      inner.close();
    }
  }

  @BeforeEach
  void start() throws java.io.IOException {
    server = FleetApiServer.start(List.of(URI.create("http://127.0.0.1:0")),
        new FleetApi(registry, registry, registry, registry));
    Endpoint endpoint = Endpoint.parse(
        "http://127.0.0.1:" + ((InetSocketAddress) server.boundAddresses().get(0)).getPort());
    http = new Recording(new NettyFleetHttp(endpoint, Duration.ofSeconds(10)));
    client = new FleetClient(http, endpoint);
  }

  @AfterEach
  void stop() {
    client.close();
    server.close();
  }

  @Test
  void manyPutsAreOneRequestAndEachFailureIsTheOneItsPutWouldGive() {
    client.createUnit("taken.service", List.of(new FleetSchema.UnitOption("Service", "ExecStart", "/bin/true")), null);
    // what a PUT of it says, to compare with its answer in a batch
    Throwable alone = catchThrown(() -> client.createUnit("taken.service", SLEEP, "launched"));
    http.requests.clear();

    List<FleetSchema.UnitRequest> puts = new ArrayList<>();
    for (int i = 1; i <= 1_200; i++) {
      puts.add(FleetClient.creation("web@" + i + ".service", SLEEP, "launched"));
    }
    puts.add(FleetClient.creation("taken.service", SLEEP, "launched"));
    List<RuntimeException> failures = client.putAll(puts, 201).orElseThrow();

    assertThat(http.requests).as("1,201 units in requests of at most 1,000 (fleetd's limit)").hasSize(2)
        .containsOnly("POST /flotilla/v1/units");
    assertThat(failures).hasSize(1_201);
    assertThat(failures.subList(0, 1_200)).containsOnlyNulls();
    assertThat(failures.get(1_200)).isInstanceOf(ApiErrorException.class).hasMessage(alone.getMessage());
    assertThat(alone.getMessage()).contains("PUT /fleet/v1/units/taken.service").contains("409")
        .contains("already exists with other options");
    assertThat(registry.units()).hasSize(1_201);
    assertThat(registry.unit("web@1200.service").orElseThrow().value().desiredState()).isEqualTo(DesiredState.LAUNCHED);

    // state changes: 204 expected, as setDesiredState
    http.requests.clear();
    List<RuntimeException> moved = client.putAll(List.of(FleetClient.stateChange("web@1.service", "loaded"),
        FleetClient.stateChange("ghost.service", "loaded")), 204).orElseThrow();
    assertThat(http.requests).containsExactly("POST /flotilla/v1/units");
    assertThat(moved.get(0)).isNull();
    assertThat(moved.get(1)).isInstanceOf(ApiErrorException.class)
        .hasMessageContaining("unit does not exist and options field empty");
    assertThat(registry.unit("web@1.service").orElseThrow().value().desiredState()).isEqualTo(DesiredState.LOADED);
  }

  @Test
  void aServerWithoutTheBatchIsAskedOnceAndThenSentPutsByTheCaller() {
    http.asFleet = true;
    List<FleetSchema.UnitRequest> puts = List.of(FleetClient.creation("a.service", SLEEP, "launched"),
        FleetClient.creation("b.service", SLEEP, "launched"));
    assertThat(client.putAll(puts, 201)).isEqualTo(Optional.empty());
    assertThat(client.putAll(puts, 201)).isEqualTo(Optional.empty());
    assertThat(http.requests).as("asked once").containsExactly("POST /flotilla/v1/units");
    assertThat(registry.units()).isEmpty();
  }

  @Test
  void aRefusedBatchFailsEveryUnitOfIt() {
    List<FleetSchema.UnitRequest> twice = List.of(FleetClient.creation("a.service", SLEEP, "launched"),
        FleetClient.creation("a.service", SLEEP, "launched"));
    List<RuntimeException> failures = client.putAll(twice, 201).orElseThrow();
    assertThat(failures).hasSize(2).allSatisfy(f -> assertThat(f).isInstanceOf(ApiErrorException.class)
        .hasMessageContaining("is in the request twice"));
    assertThat(registry.units()).isEmpty();
  }

  @Test
  void namesAreLookedUpInTheListingWhileItIsShortAndByGetsPastThat() {
    List<FleetSchema.UnitRequest> puts = new ArrayList<>();
    for (int i = 1; i <= 1_150; i++) {
      puts.add(FleetClient.creation("web@" + i + ".service", SLEEP, null));
    }
    client.putAll(puts, 201).orElseThrow().forEach(f -> assertThat(f).isNull());

    // 1,300 names, 1,150 of them units: the whole listing (12 pages of 100), no GET of a name
    List<String> many = new ArrayList<>();
    for (int i = 1; i <= 1_300; i++) {
      many.add("web@" + i + ".service");
    }
    http.requests.clear();
    Map<String, FleetSchema.Unit> found = client.unitsNamed(many);
    assertThat(found).hasSize(1_150).containsKeys("web@1.service", "web@1150.service").doesNotContainKey("web@1151.service");
    assertThat(found.get("web@7.service").name()).isEqualTo("web@7.service");
    assertThat(http.requests).hasSize(12).allSatisfy(r -> assertThat(r).startsWith("GET /fleet/v1/units"))
        .noneSatisfy(r -> assertThat(r).startsWith("GET /fleet/v1/units/"));

    // 20 names, none a unit (before every unit in name order): two pages (200 units read, ten
    // times the names left), then a GET for each, not the 12 pages
    List<String> ghosts = new ArrayList<>();
    for (int i = 1; i <= 20; i++) {
      ghosts.add("ghost-" + i + ".service");
    }
    http.requests.clear();
    assertThat(client.unitsNamed(ghosts)).isEmpty();
    assertThat(http.requests.stream().filter(r -> !r.startsWith("GET /fleet/v1/units/"))).hasSize(2);
    assertThat(http.requests.stream().filter(r -> r.startsWith("GET /fleet/v1/units/"))).hasSize(20);

    // a name or two: the first page, then GETs
    http.requests.clear();
    found = client.unitsNamed(List.of("web@999.service", "ghost.service"));
    assertThat(found).containsOnlyKeys("web@999.service");
    assertThat(http.requests).startsWith("GET /fleet/v1/units").hasSizeLessThanOrEqualTo(3)
        .contains("GET /fleet/v1/units/ghost.service");
  }

  private static Throwable catchThrown(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      return e;
    }
    throw new AssertionError("expected a failure");
  }
}
