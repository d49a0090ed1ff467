package dev.flotilla.scheduler.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.registry.DesiredState;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.UnitRecord;
import dev.flotilla.scheduler.registry.UnitStateRecord;
import dev.flotilla.scheduler.registry.memory.MemoryRegistry;
import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitName;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code /flotilla/v1/units/<unit>/status} and {@code /journal} over real HTTP: two machines'
 * APIs over one registry, each with its own unit host; asking either one reaches the machine the
 * unit runs on.
 */
class UnitHostEndpointsTest {
  private final ObjectMapper json = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();
  private final List<FleetApiServer> servers = new ArrayList<>();
  private MemoryRegistry registry;
  private URI m1;
  private URI m2;

  private record Host(String machineId) implements UnitHost {
    @Override
    public String status(String unit) {
      return unit + " on " + machineId + ": active (running)";
    }

    @Override
    public JournalPage journal(String unit, int lines) {
      List<String> out = new ArrayList<>();
      for (int i = 0; i < lines; i++) {
        out.add(machineId + " line " + i);
      }
      return new JournalPage(out, Integer.toString(lines));
    }

    /** The cursor is the number of lines written; each call "writes" one more line. */
    @Override
    public JournalPage journalAfter(String unit, String cursor) {
      int from;
      try {
        from = Integer.parseInt(cursor);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("cursor '" + cursor + "' is not one of " + machineId + "'s");
      }
      return new JournalPage(List.of(machineId + " line " + from), Integer.toString(from + 1));
    }
  }

  private URI serve(String machineId) throws Exception {
    FleetApiServer s = FleetApiServer.start(List.of(URI.create("http://127.0.0.1:0")),
        new FleetApi(registry, registry, registry, registry, new Host(machineId)));
    servers.add(s);
    return URI.create("http://127.0.0.1:" + ((InetSocketAddress) s.boundAddresses().get(0)).getPort());
  }

  @BeforeEach
  void start() throws Exception {
    registry = new MemoryRegistry(System::nanoTime);
    m1 = serve("m1");
    m2 = serve("m2");
    registry.publish(new MachineRecord("m1", "10.0.0.1", Map.of(), Resources.NONE, "t", m1.toString()), 30);
    registry.publish(new MachineRecord("m2", "10.0.0.2", Map.of(), Resources.NONE, "t", m2.toString()), 30);
    for (String u : List.of("a.service", "b.service", "g.service")) {
      registry.create(new UnitRecord(UnitName.parse(u), UnitFile.parse("[Service]\nExecStart=/bin/true\n"),
          DesiredState.INACTIVE));
    }
    registry.assign("a.service", "m1", 0);
    registry.assign("b.service", "m2", 0);
  }

  @AfterEach
  void stop() {
    servers.forEach(FleetApiServer::close);
  }

  private HttpResponse<String> get(URI base, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void theMachineRunningTheUnitAnswersWhicheverApiIsAsked() throws Exception {
    JsonNode local = json.readTree(get(m1, "/flotilla/v1/units/a.service/journal?lines=2").body());
    assertThat(local.get("machineId").asText()).isEqualTo("m1");
    assertThat(local.get("lines")).extracting(JsonNode::asText).containsExactly("m1 line 0", "m1 line 1");

    HttpResponse<String> forwarded = get(m1, "/flotilla/v1/units/b.service/status");
    assertThat(forwarded.statusCode()).as(forwarded.body()).isEqualTo(200);
    assertThat(json.readTree(forwarded.body()).get("status").asText()).isEqualTo("b.service on m2: active (running)");
  }

  @Test
  void aGlobalUnitNeedsAMachineAndUnknownUnitsAre404() throws Exception {
    registry.report(new UnitStateRecord("g.service", "m1", null, "loaded", "active", "running"));
    registry.report(new UnitStateRecord("g.service", "m2", null, "loaded", "active", "running"));
    HttpResponse<String> which = get(m1, "/flotilla/v1/units/g.service/status");
    assertThat(which.statusCode()).isEqualTo(409);
    assertThat(which.body()).contains("runs on 2 machines");
    JsonNode named = json.readTree(get(m1, "/flotilla/v1/units/g.service/journal?lines=1&machine=m2").body());
    assertThat(named.get("lines").get(0).asText()).isEqualTo("m2 line 0");

    assertThat(get(m1, "/flotilla/v1/units/nope.service/status").statusCode()).isEqualTo(404);
    assertThat(get(m1, "/flotilla/v1/units/a.service/journal?lines=x").statusCode()).isEqualTo(400);
    assertThat(get(m1, "/flotilla/v1/units/a.service/other").statusCode()).isEqualTo(404);
  }

  @Test
  void aJournalIsFollowedFromItsCursorOnTheMachineThatMadeIt() throws Exception {
    JsonNode first = json.readTree(get(m1, "/flotilla/v1/units/b.service/journal?lines=3").body());
    assertThat(first.get("machineId").asText()).isEqualTo("m2");
    assertThat(first.get("cursor").asText()).isEqualTo("3");
    JsonNode next = json.readTree(get(m1, "/flotilla/v1/units/b.service/journal?after=3&machine=m2").body());
    assertThat(next.get("lines")).extracting(JsonNode::asText).containsExactly("m2 line 3");
    assertThat(next.get("cursor").asText()).isEqualTo("4");

    HttpResponse<String> bad = get(m1, "/flotilla/v1/units/b.service/journal?after=x");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("cursor 'x' is not one of m2's");
  }

  @Test
  void aMachineWithoutAnAgentUrlIsNamedInTheError() throws Exception {
    registry.publish(new MachineRecord("m3", "10.0.0.3", Map.of(), Resources.NONE, "t"), 30);
    registry.assign("b.service", "m3", registry.assignment("b.service").orElseThrow().modRevision());
    HttpResponse<String> r = get(m1, "/flotilla/v1/units/b.service/status");
    assertThat(r.statusCode()).isEqualTo(502);
    assertThat(r.body()).contains("machine m3 serves no fleet API reachable from here");
  }
}
