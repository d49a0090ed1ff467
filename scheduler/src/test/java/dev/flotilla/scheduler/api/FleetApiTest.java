package dev.flotilla.scheduler.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flotilla.kv.client.JetcdStoreClient;
import dev.flotilla.scheduler.engine.Engine;
import dev.flotilla.scheduler.engine.EngineRegistry;
import dev.flotilla.scheduler.engine.MemoryEngineLease;
import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.registry.DesiredState;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.RegistryEvent;
import dev.flotilla.scheduler.registry.RegistryWatch;
import dev.flotilla.scheduler.registry.UnitRecord;
import dev.flotilla.scheduler.registry.UnitRegistry;
import dev.flotilla.scheduler.registry.UnitStateRecord;
import dev.flotilla.scheduler.registry.UnitStateRegistry;
import dev.flotilla.scheduler.registry.Versioned;
import dev.flotilla.scheduler.registry.memory.MemoryRegistry;
import dev.flotilla.scheduler.registry.store.StoreRegistry;
import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitHash;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The fleet API v1 over real HTTP (loopback, Java's HttpClient) against the in-memory registry,
 * with an engine run by hand where a test needs units scheduled: fleet's JSON shapes, its status
 * codes (200, 201, 204, 400, 404, 405, 409, 415) and its error bodies.
 */
class FleetApiTest {

  private static final String HELLO_OPTIONS = """
      [{"section":"Unit","name":"Description","value":"Hello World"},
       {"section":"Service","name":"ExecStart","value":"/bin/sleep 100"}]""";

  private final ObjectMapper json = new ObjectMapper();
  private long now = 1_000_000_000_000L;
  private MemoryRegistry registry;
  private FleetApiServer server;
  private Engine engine;
  private HttpClient http;
  private URI base;

  @BeforeEach
  void start() throws IOException {
    registry = new MemoryRegistry(() -> now);
    registry.publish(new MachineRecord("m1", "10.0.0.1", Map.of("region", "east"), new Resources(2000, 1L << 32),
        "test"), 30);
    registry.publish(new MachineRecord("m2", "10.0.0.2", Map.of(), new Resources(2000, 1L << 32), "test"), 30);
    server = FleetApiServer.start(List.of(URI.create("http://127.0.0.1:0")),
        new FleetApi(registry, registry, registry, registry));
    InetSocketAddress a = (InetSocketAddress) server.boundAddresses().get(0);
    base = URI.create("http://127.0.0.1:" + a.getPort());
    http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    engine = new Engine("e1", new EngineRegistry(registry, registry, registry, registry::watch),
        new MemoryEngineLease(10_000_000_000L), Engine.Config.defaults());
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void discoveryDescribesTheApi() throws Exception {
    HttpResponse<String> r = send("GET", "/fleet/v1/discovery", null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
    JsonNode d = json.readTree(r.body());
    assertThat(d.get("id").asText()).isEqualTo("fleet:v1");
    assertThat(d.get("basePath").asText()).isEqualTo("/fleet/v1/");
    assertThat(d.get("resources").fieldNames()).toIterable().contains("Units", "Machines", "UnitState");
    assertThat(send("POST", "/fleet/v1/discovery", "{}").statusCode()).isEqualTo(400); // fleet's status here
  }

  @Test
  void aUnitsLifeAsFleetctlDrivesIt() throws Exception {
    // submit: the unit with its options, no desired state
    HttpResponse<String> created = send("PUT", "/fleet/v1/units/hello.service",
        "{\"name\":\"hello.service\",\"options\":" + HELLO_OPTIONS + "}");
    assertThat(created.statusCode()).isEqualTo(201);
    assertThat(created.body()).isEmpty();
    JsonNode u = getJson("/fleet/v1/units/hello.service");
    assertThat(u.get("name").asText()).isEqualTo("hello.service");
    assertThat(u.get("desiredState").asText()).isEqualTo("inactive");
    assertThat(u.has("machineID")).isFalse();
    assertThat(u.get("currentState").asText()).isEqualTo("inactive"); // fleetctl waits on it
    assertThat(u.get("options")).hasSize(2);
    assertThat(u.get("options").get(1).get("section").asText()).isEqualTo("Service");
    assertThat(u.get("options").get(1).get("name").asText()).isEqualTo("ExecStart");
    assertThat(u.get("options").get(1).get("value").asText()).isEqualTo("/bin/sleep 100");

    // start: desired state only (two steps in the registry: inactive → loaded → launched)
    assertThat(send("PUT", "/fleet/v1/units/hello.service", "{\"desiredState\":\"launched\"}").statusCode())
        .isEqualTo(204);
    engine.reconcile(now);
    u = getJson("/fleet/v1/units/hello.service");
    assertThat(u.get("desiredState").asText()).isEqualTo("launched");
    String machine = u.get("machineID").asText();
    assertThat(machine).isIn("m1", "m2");
    assertThat(u.get("currentState").asText()).isEqualTo("inactive"); // scheduled, nothing reported yet
    String hash = UnitFile.parse("[Unit]\nDescription=Hello World\n[Service]\nExecStart=/bin/sleep 100\n").hash().hex();
    registry.report(new UnitStateRecord("hello.service", machine, new UnitHash(hash), "loaded", "active", "running"));
    u = getJson("/fleet/v1/units/hello.service");
    assertThat(u.get("currentState").asText()).isEqualTo("launched");
    JsonNode states = getJson("/fleet/v1/state");
    assertThat(states.get("states")).hasSize(1);
    JsonNode s = states.get("states").get(0);
    assertThat(s.get("name").asText()).isEqualTo("hello.service");
    assertThat(s.get("machineID").asText()).isEqualTo(machine);
    assertThat(s.get("hash").asText()).isEqualTo(hash);
    assertThat(s.get("systemdLoadState").asText()).isEqualTo("loaded");
    assertThat(s.get("systemdActiveState").asText()).isEqualTo("active");
    assertThat(s.get("systemdSubState").asText()).isEqualTo("running");

    // stop, unload: the engine unschedules it
    assertThat(send("PUT", "/fleet/v1/units/hello.service", "{\"desiredState\":\"loaded\"}").statusCode()).isEqualTo(204);
    assertThat(send("PUT", "/fleet/v1/units/hello.service", "{\"desiredState\":\"inactive\"}").statusCode())
        .isEqualTo(204);
    engine.reconcile(now);
    u = getJson("/fleet/v1/units/hello.service");
    assertThat(u.get("desiredState").asText()).isEqualTo("inactive");
    assertThat(u.get("currentState").asText()).isEqualTo("inactive"); // what fleetctl unload waits for
    assertThat(u.has("machineID")).isFalse();

    // destroy
    assertThat(send("DELETE", "/fleet/v1/units/hello.service", null).statusCode()).isEqualTo(204);
    HttpResponse<String> gone = send("GET", "/fleet/v1/units/hello.service", null);
    assertThat(gone.statusCode()).isEqualTo(404);
    assertThat(json.readTree(gone.body())).isEqualTo(json.readTree(
        "{\"error\":{\"code\":404,\"message\":\"unit does not exist\"}}"));
    assertThat(send("DELETE", "/fleet/v1/units/hello.service", null).statusCode()).isEqualTo(404);
  }

  @Test
  void aPutThatCreatesWithADesiredStateCreatesTheUnitAtThatStateInOneStep() throws Exception {
    // as fctl start sends it (and fleet's API took it): one request, the unit created launched in
    // one write (before: created inactive, then stepped to loaded and launched, three writes)
    RegistryWatch creation = registry.watch();
    assertThat(send("PUT", "/fleet/v1/units/hello.service",
        "{\"name\":\"hello.service\",\"desiredState\":\"launched\",\"options\":" + HELLO_OPTIONS + "}").statusCode())
        .isEqualTo(201);
    assertThat(registry.unit("hello.service").orElseThrow().value().desiredState()).isEqualTo(DesiredState.LAUNCHED);
    assertThat(creation.poll(100)).filteredOn(e -> e instanceof RegistryEvent.UnitChanged).as("one write").hasSize(1);
    JsonNode u = getJson("/fleet/v1/units/hello.service");
    assertThat(u.get("desiredState").asText()).isEqualTo("launched");
    assertThat(u.get("currentState").asText()).isEqualTo("inactive"); // not scheduled, nothing reported
    engine.reconcile(now);
    assertThat(getJson("/fleet/v1/units/hello.service").get("machineID").asText()).isIn("m1", "m2");
    // an existing unit still moves one neighbouring step at a time, each step recorded
    RegistryWatch w = registry.watch();
    assertThat(send("PUT", "/fleet/v1/units/hello.service", "{\"desiredState\":\"inactive\"}").statusCode())
        .isEqualTo(204);
    assertThat(w.poll(100)).filteredOn(e -> e instanceof RegistryEvent.UnitChanged).as("two recorded steps")
        .hasSize(2);
    assertThat(registry.unit("hello.service").orElseThrow().value().desiredState()).isEqualTo(DesiredState.INACTIVE);
    // a template is never created active, in one step or another
    assertError(send("PUT", "/fleet/v1/units/web@.service",
        "{\"desiredState\":\"launched\",\"options\":" + HELLO_OPTIONS + "}"), 400, "cannot activate template");
    assertThat(registry.unit("web@.service")).isEmpty();
    // an invalid [X-Fleet] is refused whatever the desired state
    assertError(send("PUT", "/fleet/v1/units/bad.service", "{\"desiredState\":\"launched\",\"options\":"
        + "[{\"section\":\"X-Fleet\",\"name\":\"Global\",\"value\":\"maybe\"}]}"), 400, "Global");
    assertThat(registry.unit("bad.service")).isEmpty();
  }

  @Test
  void conflictsAre409() throws Exception {
    assertError(send("PUT", "/fleet/v1/units/ghost.service", "{\"desiredState\":\"launched\"}"), 409,
        "unit does not exist and options field empty");
    assertThat(send("PUT", "/fleet/v1/units/hello.service", "{\"options\":" + HELLO_OPTIONS + "}").statusCode())
        .isEqualTo(201);
    assertError(send("PUT", "/fleet/v1/units/hello.service", "{\"options\":" + HELLO_OPTIONS + "}"), 409,
        "must provide DesiredState to update existing unit");
    HttpResponse<String> other = send("PUT", "/fleet/v1/units/hello.service",
        "{\"desiredState\":\"launched\",\"options\":[{\"section\":\"Service\",\"name\":\"ExecStart\",\"value\":\"/bin/true\"}]}");
    assertThat(other.statusCode()).isEqualTo(409);
    assertThat(json.readTree(other.body()).at("/error/message").asText()).contains("already exists with other options");
    // the same options again with a desired state: a state change, as fleetctl start of a submitted unit
    assertThat(send("PUT", "/fleet/v1/units/hello.service",
        "{\"desiredState\":\"loaded\",\"options\":" + HELLO_OPTIONS + "}").statusCode()).isEqualTo(204);
    assertThat(getJson("/fleet/v1/units/hello.service").get("desiredState").asText()).isEqualTo("loaded");
  }

  @Test
  void badRequestsAre400Or415() throws Exception {
    assertError(send("PUT", "/fleet/v1/units/a.service", "{not json"), 400, "unable to decode body");
    assertError(send("PUT", "/fleet/v1/units/a.service", "{\"name\":\"b.service\",\"options\":" + HELLO_OPTIONS + "}"),
        400, "name in URL \"a.service\" differs from unit name in request body \"b.service\"");
    assertError(send("PUT", "/fleet/v1/units/a.bogus", "{\"options\":" + HELLO_OPTIONS + "}"), 400,
        "invalid unit name 'a.bogus'");
    assertError(send("PUT", "/fleet/v1/units/a.service",
        "{\"options\":[{\"section\":\"X-Fleet\",\"name\":\"Global\",\"value\":\"maybe\"}]}"), 400, "Global=");
    assertError(send("PUT", "/fleet/v1/units/a.service",
        "{\"options\":[{\"section\":\"X-Fleet\",\"name\":\"Weight\",\"value\":\"3\"}]}"), 400, "Weight");
    assertError(send("PUT", "/fleet/v1/units/a.service",
        "{\"desiredState\":\"running\",\"options\":" + HELLO_OPTIONS + "}"), 400, "invalid desired state 'running'");
    assertError(send("PUT", "/fleet/v1/units/web@.service",
        "{\"desiredState\":\"launched\",\"options\":" + HELLO_OPTIONS + "}"), 400, "cannot activate template");
    assertError(send("PUT", "/fleet/v1/units/a.service", "{\"options\":[{\"name\":\"ExecStart\",\"value\":\"x\"}]}"),
        400, "options[0]: section name is empty");
    HttpResponse<String> noType = http.send(HttpRequest.newBuilder(base.resolve("/fleet/v1/units/a.service"))
        .PUT(HttpRequest.BodyPublishers.ofString("{\"options\":" + HELLO_OPTIONS + "}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertError(noType, 415, "expected 1 Content-Type, got 0");
    HttpResponse<String> text = http.send(HttpRequest.newBuilder(base.resolve("/fleet/v1/units/a.service"))
        .header("Content-Type", "text/plain")
        .PUT(HttpRequest.BodyPublishers.ofString("{\"options\":" + HELLO_OPTIONS + "}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertError(text, 415, "only acceptable Content-Type is application/json");
    assertThat(send("GET", "/fleet/v1/units", null).body()).isEqualTo("{}"); // nothing was created
  }

  @Test
  void aBatchAnswersEachUnitAsItsOwnPutWouldAndCreatesTheNewOnesTogether() throws Exception {
    assertThat(send("PUT", "/fleet/v1/units/old.service", "{\"options\":" + HELLO_OPTIONS + "}").statusCode())
        .isEqualTo(201);
    CountingUnits counting = new CountingUnits(registry);
    try (FleetApiServer batchServer = FleetApiServer.start(List.of(URI.create("http://127.0.0.1:0")),
        new FleetApi(counting, registry, registry, registry))) {
      base = URI.create("http://127.0.0.1:" + ((InetSocketAddress) batchServer.boundAddresses().get(0)).getPort());
      HttpResponse<String> r = send("POST", "/flotilla/v1/units", "{\"units\":["
          + "{\"name\":\"web@1.service\",\"desiredState\":\"launched\",\"options\":" + HELLO_OPTIONS + "},"
          + "{\"name\":\"old.service\",\"desiredState\":\"launched\"},"
          + "{\"name\":\"web@2.service\",\"desiredState\":\"launched\",\"options\":" + HELLO_OPTIONS + "},"
          + "{\"name\":\"ghost.service\",\"desiredState\":\"launched\"},"
          + "{\"name\":\"old.service.x\",\"options\":" + HELLO_OPTIONS + "},"
          + "{\"name\":\"web@.service\",\"desiredState\":\"launched\",\"options\":" + HELLO_OPTIONS + "},"
          + "{\"name\":\"bad.service\",\"options\":[{\"section\":\"X-Fleet\",\"name\":\"Global\",\"value\":\"maybe\"}]}"
          + "]}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      JsonNode results = json.readTree(r.body()).get("results");
      List<String> got = new ArrayList<>();
      results.forEach(n -> got.add(n.get("name").asText() + " " + n.get("status").asInt()
          + (n.has("message") ? " " + n.get("message").asText() : "")));
      assertThat(got).hasSize(7);
      assertThat(got.get(0)).isEqualTo("web@1.service 201");
      assertThat(got.get(1)).isEqualTo("old.service 204"); // a state change of an existing unit
      assertThat(got.get(2)).isEqualTo("web@2.service 201");
      assertThat(got.get(3)).isEqualTo("ghost.service 409 unit does not exist and options field empty");
      assertThat(got.get(4)).startsWith("old.service.x 400 invalid unit name 'old.service.x'");
      assertThat(got.get(5)).isEqualTo("web@.service 400 cannot activate template \"web@.service\"");
      assertThat(got.get(6)).startsWith("bad.service 400 ").contains("Global");
      // the two new units in one createAll, none one by one
      assertThat(counting.createAlls).isEqualTo(1);
      assertThat(counting.creates).isZero();
      assertThat(registry.unit("web@1.service").orElseThrow().value().desiredState()).isEqualTo(DesiredState.LAUNCHED);
      assertThat(registry.unit("web@2.service").orElseThrow().value().desiredState()).isEqualTo(DesiredState.LAUNCHED);
      assertThat(registry.unit("old.service").orElseThrow().value().desiredState()).isEqualTo(DesiredState.LAUNCHED);
      assertThat(registry.unit("ghost.service")).isEmpty();
      assertThat(registry.unit("bad.service")).isEmpty();

      // the same batch again: nothing new; the created ones are now state changes (204), or
      // conflicts where the options differ, as their own PUTs would be
      HttpResponse<String> again = send("POST", "/flotilla/v1/units", "{\"units\":["
          + "{\"name\":\"web@1.service\",\"desiredState\":\"launched\",\"options\":" + HELLO_OPTIONS + "},"
          + "{\"name\":\"web@2.service\",\"desiredState\":\"loaded\",\"options\":"
          + "[{\"section\":\"Service\",\"name\":\"ExecStart\",\"value\":\"/bin/true\"}]}]}");
      JsonNode r2 = json.readTree(again.body()).get("results");
      assertThat(r2.get(0).get("status").asInt()).isEqualTo(204);
      assertThat(r2.get(1).get("status").asInt()).isEqualTo(409);
      assertThat(r2.get(1).get("message").asText()).contains("already exists with other options");
      assertThat(registry.unit("web@2.service").orElseThrow().value().desiredState()).isEqualTo(DesiredState.LAUNCHED);
    }
  }

  @Test
  void aBatchThatIsNotOneIsRefusedWhole() throws Exception {
    assertError(send("GET", "/flotilla/v1/units", null), 405, "only POST supported against this resource");
    assertError(send("PUT", "/flotilla/v1/units", "{}"), 405, "only POST supported against this resource");
    assertError(send("POST", "/flotilla/v1/units", "{not json"), 400, "unable to decode body");
    assertError(send("POST", "/flotilla/v1/units", "{}"), 400, "no units in it");
    assertError(send("POST", "/flotilla/v1/units", "{\"units\":[]}"), 400, "no units in it");
    assertError(send("POST", "/flotilla/v1/units", "{\"units\":[{\"desiredState\":\"launched\"}]}"), 400,
        "units[0]: no name");
    String a = "{\"name\":\"a.service\",\"options\":" + HELLO_OPTIONS + "}";
    assertError(send("POST", "/flotilla/v1/units", "{\"units\":[" + a + ",{\"name\":\"b.service\",\"options\":"
        + HELLO_OPTIONS + "}," + a + "]}"), 400, "units[2]: unit a.service is in the request twice");
    StringBuilder many = new StringBuilder("{\"units\":[");
    for (int i = 0; i <= FleetApi.MAX_BATCH; i++) {
      many.append(i == 0 ? "" : ",").append("{\"name\":\"u").append(i).append(".service\",\"options\":")
          .append(HELLO_OPTIONS).append('}');
    }
    assertError(send("POST", "/flotilla/v1/units", many.append("]}").toString()), 400,
        "at most 1000 units per request, got 1001");
    HttpResponse<String> text = http.send(HttpRequest.newBuilder(base.resolve("/flotilla/v1/units"))
        .header("Content-Type", "text/plain")
        .POST(HttpRequest.BodyPublishers.ofString("{\"units\":[" + a + "]}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertError(text, 415, "only acceptable Content-Type is application/json");
    assertThat(send("GET", "/fleet/v1/units", null).body()).isEqualTo("{}"); // nothing was created
  }

  /** The registry's units, counting how they are created. */
  private static final class CountingUnits implements UnitRegistry {
    private final UnitRegistry inner;
    int creates;
    int createAlls;

    CountingUnits(UnitRegistry inner) {
      this.inner = inner;
    }

    @Override
    public Optional<Versioned<UnitRecord>> unit(String name) {
      return inner.unit(name);
    }

    @Override
    public List<Versioned<UnitRecord>> units() {
      return inner.units();
    }

    @Override
    public boolean create(UnitRecord unit) {
      creates++;
      return inner.create(unit);
    }

    @Override
    public List<Boolean> createAll(List<UnitRecord> units) {
      createAlls++;
      return inner.createAll(units);
    }

    @Override
    public boolean setDesiredState(String name, DesiredState state, long expectedModRevision) {
      return inner.setDesiredState(name, state, expectedModRevision);
    }

    @Override
    public boolean destroy(String name) {
      return inner.destroy(name);
    }
  }

  @Test
  void unitListsComeInPagesOf100() throws Exception {
    for (int i = 0; i < 150; i++) {
      assertThat(send("PUT", "/fleet/v1/units/" + String.format("u%03d.service", i),
          "{\"options\":" + HELLO_OPTIONS + "}").statusCode()).isEqualTo(201);
    }
    JsonNode first = getJson("/fleet/v1/units?alt=json"); // googleapi clients add alt=json
    assertThat(first.get("units")).hasSize(100);
    assertThat(first.get("units").get(0).get("name").asText()).isEqualTo("u000.service");
    assertThat(first.get("nextPageToken").asText()).isEqualTo("ZAACAA=="); // limit 100, page 2, little endian
    JsonNode second = getJson("/fleet/v1/units?nextPageToken=" + enc("ZAACAA=="));
    assertThat(second.get("units")).hasSize(50);
    assertThat(second.get("units").get(0).get("name").asText()).isEqualTo("u100.service");
    assertThat(second.has("nextPageToken")).isFalse();
    assertThat(getJson("/fleet/v1/units?nextPageToken=" + enc("ZAADAA==")).size()).isZero(); // page 3: {}
    assertError(send("GET", "/fleet/v1/units?nextPageToken=" + enc("MgACAA=="), null), 400, "token limit must be 100");
    assertError(send("GET", "/fleet/v1/units?nextPageToken=" + enc("ZAAAAA=="), null), 400,
        "token page must be greater than zero");
    assertError(send("GET", "/fleet/v1/units?nextPageToken=%25%25", null), 400, "invalid page token");
    assertError(send("GET", "/fleet/v1/units?nextPageToken=ZAACAA%3D%3D&nextPageToken=ZAACAA%3D%3D", null), 400,
        "too many values for page token");
  }

  @Test
  void statesFilterByMachineAndUnit() throws Exception {
    UnitHash h = UnitFile.parse("[Service]\nExecStart=/bin/sleep 100\n").hash();
    registry.report(new UnitStateRecord("a.service", "m1", h, "loaded", "active", "running"));
    registry.report(new UnitStateRecord("b.service", "m1", h, "loaded", "inactive", "dead"));
    registry.report(new UnitStateRecord("b.service", "m2", h, "loaded", "failed", "failed"));
    assertThat(getJson("/fleet/v1/state").get("states")).hasSize(3);
    JsonNode m1 = getJson("/fleet/v1/state?machineID=m1");
    assertThat(m1.get("states")).hasSize(2);
    JsonNode b = getJson("/fleet/v1/state?unitName=b.service");
    assertThat(b.get("states")).hasSize(2);
    JsonNode both = getJson("/fleet/v1/state?unitName=b.service&machineID=m2");
    assertThat(both.get("states")).hasSize(1);
    assertThat(both.at("/states/0/systemdActiveState").asText()).isEqualTo("failed");
    assertThat(both.at("/states/0/hash").asText()).isEqualTo(h.hex());
    assertThat(getJson("/fleet/v1/state?machineID=nope").size()).isZero();
    assertThat(send("DELETE", "/fleet/v1/state", null).statusCode()).isEqualTo(405);
  }

  @Test
  void statePagesReadOnlyWhatThePageNeeds() throws Exception {
    AtomicInteger handedOut = new AtomicInteger(); // states the registry gave the API
    UnitStateRegistry counted = new UnitStateRegistry() {
      @Override
      public List<UnitStateRecord> states() {
        return count(registry.states());
      }

      @Override
      public List<UnitStateRecord> states(int limit) {
        return count(registry.states(limit));
      }

      @Override
      public List<UnitStateRecord> statesOf(String unit) {
        return count(registry.statesOf(unit));
      }

      private List<UnitStateRecord> count(List<UnitStateRecord> states) {
        handedOut.addAndGet(states.size());
        return states;
      }

      @Override
      public void report(UnitStateRecord state) {
        registry.report(state);
      }

      @Override
      public void clear(String unit, String machineId) {
        registry.clear(unit, machineId);
      }
    };
    server.close();
    server = FleetApiServer.start(List.of(URI.create("http://127.0.0.1:0")),
        new FleetApi(registry, registry, registry, counted));
    base = URI.create("http://127.0.0.1:" + ((InetSocketAddress) server.boundAddresses().get(0)).getPort());
    for (int i = 0; i < 125; i++) {
      for (String m : List.of("m1", "m2")) {
        registry.report(new UnitStateRecord(String.format("u%03d.service", i), m, null, "loaded", "active", "running"));
      }
    }
    List<String> all = registry.states().stream().map(s -> s.unit() + "/" + s.machineId()).toList();

    List<String> listed = new ArrayList<>();
    List<Integer> readPerPage = new ArrayList<>();
    String token = null;
    do {
      handedOut.set(0);
      JsonNode page = getJson("/fleet/v1/state" + (token == null ? "" : "?nextPageToken=" + enc(token)));
      readPerPage.add(handedOut.get());
      page.get("states").forEach(s -> listed.add(s.get("name").asText() + "/" + s.get("machineID").asText()));
      token = page.has("nextPageToken") ? page.get("nextPageToken").asText() : null;
    } while (token != null);
    assertThat(listed).isEqualTo(all); // the same pages, in the same order, as a full read gives
    assertThat(readPerPage).as("states read for pages 1, 2, 3 of 250").containsExactly(100, 200, 250);

    handedOut.set(0);
    JsonNode one = getJson("/fleet/v1/state?unitName=u042.service");
    assertThat(one.get("states")).extracting(s -> s.get("machineID").asText()).containsExactly("m1", "m2");
    assertThat(handedOut.get()).as("states read for one unit's").isEqualTo(2);
    assertThat(getJson("/fleet/v1/state?unitName=u042.service&machineID=m2").get("states")).hasSize(1);
    assertThat(getJson("/fleet/v1/state?machineID=m2").get("states")).hasSize(100); // a filter: the whole list, sliced
  }

  @Test
  void machinesListAndMetadataPatch() throws Exception {
    JsonNode page = getJson("/fleet/v1/machines");
    assertThat(page.get("machines")).hasSize(2);
    JsonNode m1 = page.get("machines").get(0);
    assertThat(m1.get("id").asText()).isEqualTo("m1");
    assertThat(m1.get("primaryIP").asText()).isEqualTo("10.0.0.1");
    assertThat(m1.get("metadata")).isEqualTo(json.readTree("{\"region\":\"east\"}"));
    assertThat(page.get("machines").get(1).has("metadata")).isFalse(); // empty: left out, as fleet

    HttpResponse<String> r = send("PATCH", "/fleet/v1/machines", """
        [{"op":"add","path":"/m1/metadata/disk","value":"ssd"},
         {"op":"replace","path":"/m1/metadata/region","value":"west"},
         {"op":"add","path":"/m2/metadata/gpu","value":"yes"}]""");
    assertThat(r.statusCode()).isEqualTo(204);
    assertThat(registry.machine("m1").orElseThrow().metadata()).isEqualTo(Map.of("disk", "ssd", "region", "west"));
    assertThat(registry.machine("m2").orElseThrow().metadata()).isEqualTo(Map.of("gpu", "yes"));
    assertThat(send("PATCH", "/fleet/v1/machines", "[{\"op\":\"remove\",\"path\":\"/m1/metadata/disk\"}]").statusCode())
        .isEqualTo(204);
    assertThat(registry.machine("m1").orElseThrow().metadata()).isEqualTo(Map.of("region", "west"));

    assertError(send("PATCH", "/fleet/v1/machines", "[{\"op\":\"move\",\"path\":\"/m1/metadata/a\",\"value\":\"b\"}]"),
        400, "invalid op: expect add, remove, or replace");
    assertError(send("PATCH", "/fleet/v1/machines", "[{\"op\":\"add\",\"path\":\"/m1/labels/a\",\"value\":\"b\"}]"),
        400, "machine metadata path invalid");
    assertError(send("PATCH", "/fleet/v1/machines", "[{\"op\":\"add\",\"path\":\"/m1/metadata/a\"}]"), 400,
        "invalid value: add and replace require a value");
    assertError(send("PATCH", "/fleet/v1/machines", "{\"op\":\"add\"}"), 400, "");
    // all or nothing: the unknown machine is found before m1 changes
    assertError(send("PATCH", "/fleet/v1/machines", """
        [{"op":"add","path":"/m1/metadata/x","value":"1"},{"op":"add","path":"/zz/metadata/x","value":"1"}]"""),
        404, "machine zz not found");
    assertThat(registry.machine("m1").orElseThrow().metadata()).isEqualTo(Map.of("region", "west"));
    assertThat(send("PUT", "/fleet/v1/machines", "[]").statusCode()).isEqualTo(405);
  }

  @Test
  void anUnplaceableUnitSaysWhy() throws Exception {
    assertThat(send("PUT", "/fleet/v1/units/pinned.service", """
        {"desiredState":"launched","options":[
          {"section":"Service","name":"ExecStart","value":"/bin/true"},
          {"section":"X-Fleet","name":"MachineMetadata","value":"region=mars"}]}""").statusCode()).isEqualTo(201);
    engine.reconcile(now);
    JsonNode u = getJson("/fleet/v1/units/pinned.service");
    assertThat(u.has("machineID")).isFalse();
    assertThat(u.get("unscheduledReason").asText()).isEqualTo("no machine has metadata region=mars");
    // an operator gives m2 the metadata: the engine places it and the reason goes
    assertThat(send("PATCH", "/fleet/v1/machines", "[{\"op\":\"add\",\"path\":\"/m2/metadata/region\",\"value\":\"mars\"}]")
        .statusCode()).isEqualTo(204);
    engine.reconcile(now);
    u = getJson("/fleet/v1/units/pinned.service");
    assertThat(u.get("machineID").asText()).isEqualTo("m2");
    assertThat(u.has("unscheduledReason")).isFalse();
  }

  @Test
  void unknownPathsAndMethods() throws Exception {
    assertError(send("POST", "/fleet/v1/units", "{}"), 405, "only GET supported against this resource");
    assertError(send("POST", "/fleet/v1/units/a.service", "{}"), 405,
        "only GET, PUT and DELETE supported against this resource");
    assertError(send("GET", "/nope", null), 404, "");
    assertError(send("GET", "/fleet/v1/units/", null), 404, "");
    assertError(send("GET", "/", null), 405, "");
    assertError(send("GET", "/fleet/v1", null), 405, "");
    // names are percent-decoded, as fleetctl escapes them
    assertThat(send("PUT", "/fleet/v1/units/web%40.service", "{\"options\":" + HELLO_OPTIONS + "}").statusCode())
        .isEqualTo(201);
    assertThat(getJson("/fleet/v1/units/web@.service").get("name").asText()).isEqualTo("web@.service");
  }

  // ---- helpers

  @Test
  void aStoreThatDoesNotAnswerIs503WithAMessage() throws Exception {
    int deadPort;
    try (ServerSocket s = new ServerSocket(0)) {
      deadPort = s.getLocalPort(); // closed again: nothing listens there
    }
    try (JetcdStoreClient store = JetcdStoreClient.connect(List.of(URI.create("http://127.0.0.1:" + deadPort)),
            Duration.ofMillis(500));
        FleetApiServer unreachable = FleetApiServer.start(List.of(URI.create("http://127.0.0.1:0")),
            new FleetApi(new StoreRegistry(store), new StoreRegistry(store), new StoreRegistry(store),
                new StoreRegistry(store)))) {
      base = URI.create("http://127.0.0.1:" + ((InetSocketAddress) unreachable.boundAddresses().get(0)).getPort());
      HttpResponse<String> r = send("GET", "/fleet/v1/units/hello.service", null);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
      JsonNode error = json.readTree(r.body()).get("error");
      assertThat(error.get("code").asInt()).isEqualTo(503);
      assertThat(error.get("message").asText()).startsWith("the store is unavailable: ");
    }
  }

  private HttpResponse<String> send(String method, String path, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10));
    if (body == null) {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode getJson(String path) throws Exception {
    HttpResponse<String> r = send("GET", path, null);
    assertThat(r.statusCode()).as("GET " + path + ": " + r.body()).isEqualTo(200);
    return json.readTree(r.body());
  }

  private void assertError(HttpResponse<String> r, int status, String messagePart) throws IOException {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    JsonNode e = json.readTree(r.body());
    assertThat(e.at("/error/code").asInt()).isEqualTo(status);
    assertThat(e.at("/error").has("message")).isTrue();
    assertThat(e.at("/error/message").asText()).contains(messagePart);
    List<String> fields = new ArrayList<>();
    e.fieldNames().forEachRemaining(fields::add);
    assertThat(fields).containsExactly("error");
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
