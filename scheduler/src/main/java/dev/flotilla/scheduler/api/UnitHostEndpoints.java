package dev.flotilla.scheduler.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.MachineRegistry;
import dev.flotilla.scheduler.registry.ScheduleRegistry;
import dev.flotilla.scheduler.registry.UnitStateRecord;
import dev.flotilla.scheduler.registry.UnitStateRegistry;
import dev.flotilla.scheduler.registry.Versioned;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Flotilla's own resources beside fleet's, for what fleetctl did over SSH:
 * {@code GET /flotilla/v1/units/<unit>/status} and {@code GET /flotilla/v1/units/<unit>/journal?lines=N}
 * (optionally {@code &machine=<id>} for a global unit). The API of any machine answers: when the
 * unit runs elsewhere it forwards the request to that machine's {@code agentUrl}.
 *
 * <p>A journal page carries a {@code cursor}; {@code journal?after=<cursor>&machine=<id>} returns
 * what the unit wrote since, with the next cursor. {@code fctl journal -f} polls that: a cursor is
 * a position in one machine's log, so the follower names the machine of its first page.
 */
final class UnitHostEndpoints {
  static final String PREFIX = "/flotilla/v1/units/";
  private static final int MAX_LINES = 10_000;

  record Status(String unit, String machineId, String status) {}

  record Journal(String unit, String machineId, List<String> lines, String cursor) {}

  private final UnitHost local;
  private final ScheduleRegistry schedule;
  private final MachineRegistry machines;
  private final UnitStateRegistry states;
  private final ObjectMapper json = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  UnitHostEndpoints(UnitHost local, ScheduleRegistry schedule, MachineRegistry machines, UnitStateRegistry states) {
    this.local = local;
    this.schedule = schedule;
    this.machines = machines;
    this.states = states;
  }

  ApiResponse handle(String method, String path, Map<String, List<String>> query) {
    if (!method.equals("GET")) {
      throw new ApiException(405, "only GET supported against this resource");
    }
    String rest = path.substring(PREFIX.length());
    int slash = rest.indexOf('/');
    if (slash <= 0) {
      throw new ApiException(404, "");
    }
    String unit = rest.substring(0, slash);
    String what = rest.substring(slash + 1);
    if (!what.equals("status") && !what.equals("journal")) {
      throw new ApiException(404, "");
    }
    int lines = 10;
    if (query.containsKey("lines")) {
      try {
        lines = Integer.parseInt(query.get("lines").get(0));
      } catch (NumberFormatException e) {
        throw new ApiException(400, "lines must be a number, got '" + query.get("lines").get(0) + "'");
      }
      if (lines < 0 || lines > MAX_LINES) {
        throw new ApiException(400, "lines must be between 0 and " + MAX_LINES);
      }
    }
    String after = query.containsKey("after") ? query.get("after").get(0) : null;
    String machine = whereItRuns(unit, query.containsKey("machine") ? query.get("machine").get(0) : null);
    if (local != null && machine.equals(local.machineId())) {
      if (what.equals("status")) {
        return ok(new Status(unit, machine, local.status(unit)));
      }
      UnitHost.JournalPage page;
      try {
        page = after == null ? local.journal(unit, lines) : local.journalAfter(unit, after);
      } catch (IllegalArgumentException e) {
        throw new ApiException(400, e.getMessage());
      } catch (UnsupportedOperationException e) {
        throw new ApiException(501, e.getMessage());
      }
      return ok(new Journal(unit, machine, page.lines(), page.cursor()));
    }
    return forward(machine, PREFIX + enc(unit) + "/" + what + "?lines=" + lines + "&machine=" + enc(machine)
        + (after == null ? "" : "&after=" + enc(after)));
  }

  /** The machine a unit runs on: the one named, its assignment, or the only machine reporting it. */
  private String whereItRuns(String unit, String named) {
    if (named != null && !named.isEmpty()) {
      return named;
    }
    Optional<Versioned<String>> assigned = schedule.assignment(unit);
    if (assigned.isPresent()) {
      return assigned.get().value();
    }
    List<String> reporting = states.states().stream().filter(s -> s.unit().equals(unit))
        .map(UnitStateRecord::machineId).distinct().toList();
    if (reporting.size() == 1) {
      return reporting.get(0);
    }
    if (reporting.isEmpty()) {
      throw new ApiException(404, "unit " + unit + " does not run on any machine");
    }
    throw new ApiException(409, "unit " + unit + " runs on " + reporting.size()
        + " machines; name one with machine=<id> (fctl: --machine)");
  }

  private ApiResponse forward(String machineId, String pathAndQuery) {
    MachineRecord m = machines.machine(machineId)
        .orElseThrow(() -> new ApiException(404, "machine " + machineId + " is not in the cluster"));
    if (m.agentUrl().isEmpty()) {
      throw new ApiException(502, "machine " + machineId + " serves no fleet API reachable from here "
          + "(start its fleetd with an http:// --api-listen)");
    }
    URI target = URI.create(m.agentUrl().replaceAll("/+$", "") + pathAndQuery);
    try {
      HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(10)).GET().build(),
          HttpResponse.BodyHandlers.ofByteArray());
      return new ApiResponse(r.statusCode(), r.body());
    } catch (IOException e) {
      throw new ApiException(502, "machine " + machineId + "'s agent at " + m.agentUrl() + " did not answer: "
          + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiException(503, "interrupted");
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private ApiResponse ok(Object body) {
    try {
      return new ApiResponse(200, json.writeValueAsBytes(body));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
