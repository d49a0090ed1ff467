package dev.flotilla.agent.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitOption;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A client of the fleet API v1 over HTTP, as fleetctl uses it: units in, units and states out. */
final class FleetHttp {

  /** One entry of {@code /fleet/v1/state}: what a machine's agent reported for a unit. */
  record State(String unit, String machineId, String load, String active, String sub) {}

  /** One entry of {@code /fleet/v1/units}. */
  record Unit(String name, String desiredState, String currentState, String machineId) {}

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final ObjectMapper json = new ObjectMapper();

  /** Submits {@code unitFile} as {@code name} with {@code desiredState} (launched, loaded, inactive). */
  void submit(URI api, String name, String unitFile, String desiredState) {
    ObjectNode body = json.createObjectNode();
    body.put("name", name);
    body.put("desiredState", desiredState);
    ArrayNode options = body.putArray("options");
    for (UnitOption o : UnitFile.parse(unitFile).options()) {
      options.addObject().put("section", o.section()).put("name", o.name()).put("value", o.value());
    }
    var r = send(HttpRequest.newBuilder(unitUri(api, name))
        .header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(body.toString())));
    if (r.statusCode() != 201 && r.statusCode() != 204) {
      throw new IllegalStateException("PUT " + name + " to " + api + ": " + r.statusCode() + " " + r.body());
    }
  }

  /** Destroys {@code name} (fleetctl destroy); absent is fine. */
  void destroy(URI api, String name) {
    var r = send(HttpRequest.newBuilder(unitUri(api, name)).DELETE());
    if (r.statusCode() != 204 && r.statusCode() != 404) {
      throw new IllegalStateException("DELETE " + name + " at " + api + ": " + r.statusCode() + " " + r.body());
    }
  }

  List<State> states(URI api) {
    List<State> out = new ArrayList<>();
    for (JsonNode s : pages(api, "/fleet/v1/state", "states")) {
      out.add(new State(s.path("name").asText(), s.path("machineID").asText(), s.path("systemdLoadState").asText(),
          s.path("systemdActiveState").asText(), s.path("systemdSubState").asText()));
    }
    return out;
  }

  List<Unit> units(URI api) {
    List<Unit> out = new ArrayList<>();
    for (JsonNode u : pages(api, "/fleet/v1/units", "units")) {
      out.add(new Unit(u.path("name").asText(), u.path("desiredState").asText(), u.path("currentState").asText(),
          u.path("machineID").asText()));
    }
    return out;
  }

  List<String> machines(URI api) {
    List<String> out = new ArrayList<>();
    for (JsonNode m : pages(api, "/fleet/v1/machines", "machines")) {
      out.add(m.path("id").asText());
    }
    return out;
  }

  private List<JsonNode> pages(URI api, String path, String field) {
    List<JsonNode> out = new ArrayList<>();
    String token = "";
    do {
      URI uri = api.resolve(path + (token.isEmpty() ? "" : "?nextPageToken="
          + URLEncoder.encode(token, StandardCharsets.UTF_8)));
      var r = send(HttpRequest.newBuilder(uri).GET());
      if (r.statusCode() != 200) {
        throw new IllegalStateException("GET " + uri + ": " + r.statusCode() + " " + r.body());
      }
      JsonNode page;
      try {
        page = json.readTree(r.body());
      } catch (IOException e) {
        throw new IllegalStateException("GET " + uri + ": not JSON: " + r.body(), e);
      }
      page.path(field).forEach(out::add);
      token = page.path("nextPageToken").asText("");
    } while (!token.isEmpty());
    return out;
  }

  private static URI unitUri(URI api, String name) {
    return api.resolve("/fleet/v1/units/" + name); // unit names need no escaping in a path
  }

  private HttpResponse<String> send(HttpRequest.Builder request) {
    try {
      return http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException("fleet API: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
