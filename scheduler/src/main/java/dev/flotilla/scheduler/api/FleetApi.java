package dev.flotilla.scheduler.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import dev.flotilla.kv.client.StoreException;
import dev.flotilla.scheduler.fleet.InvalidUnitException;
import dev.flotilla.scheduler.fleet.XFleetOptions;
import dev.flotilla.scheduler.registry.DesiredState;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.MachineRegistry;
import dev.flotilla.scheduler.registry.ScheduleRegistry;
import dev.flotilla.scheduler.registry.UnitRecord;
import dev.flotilla.scheduler.registry.UnitRegistry;
import dev.flotilla.scheduler.registry.UnitStateRecord;
import dev.flotilla.scheduler.registry.UnitStateRegistry;
import dev.flotilla.scheduler.registry.Versioned;
import dev.flotilla.scheduler.unit.InvalidUnitNameException;
import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitName;
import dev.flotilla.scheduler.unit.UnitOption;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * fleet's HTTP API v1 over the registry interfaces, without the HTTP server: a request (method,
 * URI, Content-Type headers, body) in, a status and JSON body out. {@link FleetApiServer} serves it.
 *
 * <p>Follows fleet's {@code api/} package: the same resources, status codes and messages where
 * fleetctl can see them. Where it differs, on purpose: a PUT with options for an existing unit
 * whose options differ is refused with 409 (fleet ignored the options silently); [X-Fleet] is
 * validated fully at submit (400 naming every problem); a desired state change to a state that is
 * not a neighbour is carried out one step at a time; a PATCH for an absent machine is 404.
 *
 * <p>A PUT that creates a unit with a desired state creates it at that state in one conditional
 * txn, as fleet's registry did (the unit was written with its target state): a new unit has no
 * recorded state to step from, and nothing acts on it before it exists. Moving an existing unit
 * still goes one neighbouring step at a time. Concurrent creations are committed together
 * ({@link CreateGroupCommit}); each request is answered once its own unit is committed.
 */
public final class FleetApi {
  private static final Logger log = LoggerFactory.getLogger(FleetApi.class);

  static final String PREFIX = "/fleet/v1";
  /** Flotilla's batch of unit PUTs, beside fleet's one unit per request: see {@link #putUnits}. */
  static final String BATCH_PATH = "/flotilla/v1/units";
  /** Units one batch may carry. */
  static final int MAX_BATCH = 1_000;
  private static final Pattern METADATA_PATH = Pattern.compile("^/([^/]+)/metadata/([A-Za-z0-9_.-]+)$");

  private final UnitRegistry units;
  private final ScheduleRegistry schedule;
  private final MachineRegistry machines;
  private final UnitStateRegistry states;
  private static final ObjectMapper JSON = new ObjectMapper();
  // A reader or writer per body type, made when the class loads (fleetd's start): Jackson builds a
  // type's (de)serializer, reflection over the records and their fields, a few ms each in a fresh
  // JVM, when its reader or writer is made; so the first `fctl start` of 300 units does not wait
  // for the batch, results, unit and state page (de)serializers to be built.
  private static final ObjectReader UNIT_READER = JSON.readerFor(FleetJson.Unit.class);
  private static final ObjectReader BATCH_READER = JSON.readerFor(FleetJson.UnitBatch.class);
  private static final ObjectReader METADATA_OPS_READER = JSON.readerFor(new TypeReference<List<FleetJson.MetadataOp>>() {});
  private static final ObjectWriter UNIT_WRITER = JSON.writerFor(FleetJson.Unit.class);
  private static final ObjectWriter UNIT_PAGE_WRITER = JSON.writerFor(FleetJson.UnitPage.class);
  private static final ObjectWriter STATE_PAGE_WRITER = JSON.writerFor(FleetJson.UnitStatePage.class);
  private static final ObjectWriter MACHINE_PAGE_WRITER = JSON.writerFor(FleetJson.MachinePage.class);
  private static final ObjectWriter BATCH_RESULTS_WRITER = JSON.writerFor(FleetJson.UnitBatchResults.class);
  private static final ObjectWriter ERROR_WRITER = JSON.writerFor(FleetJson.ErrorBody.class);
  private final CreateGroupCommit creations;
  private final byte[] discovery;
  private final UnitHostEndpoints hostEndpoints;

  public FleetApi(UnitRegistry units, ScheduleRegistry schedule, MachineRegistry machines, UnitStateRegistry states) {
    this(units, schedule, machines, states, null);
  }

  /**
   * With {@code host} (the agent of this machine; null: none here), the API also answers
   * {@code /flotilla/v1/units/<unit>/status} and {@code .../journal}, forwarding to the unit's
   * machine when it runs elsewhere.
   */
  public FleetApi(UnitRegistry units, ScheduleRegistry schedule, MachineRegistry machines, UnitStateRegistry states,
      UnitHost host) {
    this.hostEndpoints = new UnitHostEndpoints(host, schedule, machines, states);
    this.units = Objects.requireNonNull(units);
    this.schedule = Objects.requireNonNull(schedule);
    this.machines = Objects.requireNonNull(machines);
    this.states = Objects.requireNonNull(states);
    this.creations = new CreateGroupCommit(units);
    try (InputStream in = FleetApi.class.getResourceAsStream("discovery.json")) {
      this.discovery = Objects.requireNonNull(in, "discovery.json missing from the jar").readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Answers one request. {@code contentTypes}: every Content-Type header sent. */
  public ApiResponse handle(String method, String uri, List<String> contentTypes, byte[] body) {
    try {
      QueryStringDecoder q = new QueryStringDecoder(uri);
      return route(method, q.path(), q.parameters(), contentTypes, body);
    } catch (ApiException e) {
      return error(e.status, e.getMessage());
    } catch (StoreException e) {
      if (e.code() == StoreException.Code.UNAVAILABLE || e.code() == StoreException.Code.TIMEOUT) {
        // the store is down, slow or without a leader: the client may retry later
        log.warn("{} {}: {}", method, uri, e.getMessage());
        return error(503, "the store is unavailable: " + e.getMessage());
      }
      log.error("{} {} failed", method, uri, e);
      return error(500, e.getMessage());
    } catch (RuntimeException e) {
      log.error("{} {} failed", method, uri, e);
      return error(500, "");
    }
  }

  private ApiResponse route(String method, String path, Map<String, List<String>> query, List<String> contentTypes,
      byte[] body) {
    if (path.equals("/")) {
      return error(405, "");
    }
    if (path.equals(PREFIX)) {
      return error(405, "");
    }
    if (path.equals(BATCH_PATH)) {
      if (!method.equals("POST")) {
        return error(405, "only POST supported against this resource");
      }
      return putUnits(contentTypes, body);
    }
    if (path.startsWith(UnitHostEndpoints.PREFIX)) {
      return hostEndpoints.handle(method, path, query);
    }
    if (path.equals(PREFIX + "/discovery")) {
      if (!method.equals("GET")) {
        return error(400, "only HTTP GET supported against this resource"); // fleet's status, not 405
      }
      return new ApiResponse(200, discovery);
    }
    if (path.equals(PREFIX + "/machines")) {
      return switch (method) {
        case "GET" -> ok(MACHINE_PAGE_WRITER, listMachines(query));
        case "PATCH" -> patchMachines(body);
        default -> error(405, "only GET and PATCH supported against this resource");
      };
    }
    if (path.equals(PREFIX + "/state")) {
      if (!method.equals("GET")) {
        return error(405, "only GET supported against this resource");
      }
      return ok(STATE_PAGE_WRITER, listStates(query));
    }
    String unitsBase = PREFIX + "/units";
    if (path.equals(unitsBase)) {
      if (!method.equals("GET")) {
        return error(405, "only GET supported against this resource");
      }
      return ok(UNIT_PAGE_WRITER, listUnits(query));
    }
    if (path.startsWith(unitsBase + "/")) {
      String item = path.substring(unitsBase.length() + 1);
      if (item.isEmpty() || item.contains("/")) {
        return error(404, "");
      }
      return switch (method) {
        case "GET" -> ok(UNIT_WRITER, getUnit(item));
        case "PUT" -> putUnit(item, contentTypes, body);
        case "DELETE" -> deleteUnit(item);
        default -> error(405, "only GET, PUT and DELETE supported against this resource");
      };
    }
    return error(404, "");
  }

  // ---- units

  private FleetJson.UnitPage listUnits(Map<String, List<String>> query) {
    PageToken token = pageToken(query);
    List<Versioned<UnitRecord>> all = new ArrayList<>(units.units());
    all.sort(Comparator.comparing(v -> v.value().name().name()));
    PageToken.Page<Versioned<UnitRecord>> page = token.slice(all);
    View view = view();
    List<FleetJson.Unit> out = new ArrayList<>(page.items().size());
    for (Versioned<UnitRecord> v : page.items()) {
      out.add(unitJson(v.value(), view));
    }
    return new FleetJson.UnitPage(out, page.nextPageToken());
  }

  private FleetJson.Unit getUnit(String name) {
    Versioned<UnitRecord> v = units.unit(name).orElseThrow(() -> new ApiException(404, "unit does not exist"));
    return unitJson(v.value(), view());
  }

  private ApiResponse deleteUnit(String name) {
    if (units.unit(name).isEmpty() || !units.destroy(name)) {
      return error(404, "unit does not exist");
    }
    return ApiResponse.empty(204);
  }

  /** The JSON body as {@code type} (null for a body of {@code null}); fleet's 400 when it does not decode. */
  private static <T> T decodeBody(byte[] body, ObjectReader reader) {
    try {
      return reader.readValue(body);
    } catch (IOException e) {
      throw new ApiException(400, "unable to decode body: " + firstLine(e));
    }
  }

  private ApiResponse putUnit(String item, List<String> contentTypes, byte[] body) {
    requireJson(contentTypes);
    FleetJson.Unit su = decodeBody(body, UNIT_READER);
    if (su == null) {
      throw new ApiException(400, "unable to decode body: no unit in it");
    }
    UnitPut put = checkPut(item, su);
    // the common case first: the unit is new, and one conditional txn (grouped with the creations
    // of concurrent requests) creates it at its desired state; no read before
    if (put.creatable() && creations.create(put.record())) {
      return ApiResponse.empty(201);
    }
    return finishPut(put);
  }

  /**
   * A unit PUT's body, checked: its name, the desired state asked for (null: none), the unit file
   * from its options (null: none given), and what is wrong with its [X-Fleet] (null: nothing).
   */
  private record UnitPut(String name, UnitName unitName, DesiredState target, UnitFile file, String invalid) {
    /** Whether it can be created as it is: options given, and valid. */
    boolean creatable() {
      return file != null && invalid == null;
    }

    UnitRecord record() {
      return new UnitRecord(unitName, file, target == null ? DesiredState.INACTIVE : target);
    }
  }

  /** Checks a PUT of unit {@code item} (the name in its URL) with body {@code su}; 400 if malformed. */
  private static UnitPut checkPut(String item, FleetJson.Unit su) {
    String name = su.name() == null || su.name().isEmpty() ? item : su.name();
    if (!item.equals(name)) {
      throw new ApiException(400, "name in URL \"" + item + "\" differs from unit name in request body \"" + name + "\"");
    }
    UnitName unitName;
    try {
      unitName = UnitName.parse(name);
    } catch (InvalidUnitNameException e) {
      throw new ApiException(400, e.getMessage());
    }
    DesiredState target = null;
    if (su.desiredState() != null && !su.desiredState().isEmpty()) {
      try {
        target = DesiredState.fromJson(su.desiredState());
      } catch (IllegalArgumentException e) {
        throw new ApiException(400, e.getMessage());
      }
      if (unitName.isTemplate() && target != DesiredState.INACTIVE) {
        throw new ApiException(400, "cannot activate template \"" + name + "\"");
      }
    }
    List<FleetJson.UnitOption> options = su.options() == null ? List.of() : su.options();
    UnitFile file = null;
    String invalid = null;
    if (!options.isEmpty()) {
      file = unitFile(options);
      try {
        XFleetOptions.parse(unitName, file);
      } catch (InvalidUnitException e) {
        invalid = e.getMessage();
      }
    }
    return new UnitPut(name, unitName, target, file, invalid);
  }

  /** A PUT whose unit was not created by it: it exists (a desired state change), or the answer is an error. */
  private ApiResponse finishPut(UnitPut put) {
    String name = put.name();
    Optional<Versioned<UnitRecord>> existing = units.unit(name);
    if (existing.isEmpty()) {
      if (put.file() == null) {
        throw new ApiException(409, "unit does not exist and options field empty");
      }
      if (put.invalid() != null) {
        throw new ApiException(400, put.invalid());
      }
      throw new ApiException(409, "unit " + name + " already exists"); // it was there, and is gone again
    }
    if (put.file() != null) {
      UnitFile mine = put.file();
      UnitFile theirs = existing.get().value().file();
      if (!mine.hash().equals(theirs.hash())) {
        throw new ApiException(409, "unit " + name + " already exists with other options (hash "
            + theirs.hash().shortHex() + ", request " + mine.hash().shortHex() + "): destroy it first to replace it");
      }
    }
    if (put.target() == null) {
      throw new ApiException(409, "must provide DesiredState to update existing unit");
    }
    moveTo(name, put.target());
    return ApiResponse.empty(204);
  }

  /**
   * Flotilla's batch of unit PUTs ({@code POST /flotilla/v1/units}, body {@code {"units":[<unit>...]}},
   * each unit as a fleet PUT body with its name): every unit is answered as its own
   * {@code PUT /fleet/v1/units/<name>} would be (201, 204, 400, 409 with fleet's message), in
   * order, in one 200 answer; the new units are created together (a store txn per 128 or so)
   * instead of one request each. The request as a whole is refused (415, 400) when it is not JSON,
   * names no units, more than {@link #MAX_BATCH}, or one name twice. A store failure fails the
   * request (503) after the units before it may have been written: sending it again is safe, a
   * unit already created with the same options and state answers 204.
   */
  private ApiResponse putUnits(List<String> contentTypes, byte[] body) {
    requireJson(contentTypes);
    FleetJson.UnitBatch batch = decodeBody(body, BATCH_READER);
    if (batch == null || batch.units() == null || batch.units().isEmpty()) {
      throw new ApiException(400, "unable to decode body: no units in it (expected {\"units\":[...]})");
    }
    if (batch.units().size() > MAX_BATCH) {
      throw new ApiException(400, "at most " + MAX_BATCH + " units per request, got " + batch.units().size()
          + "; send them in several");
    }
    int n = batch.units().size();
    List<UnitPut> puts = new ArrayList<>(n);
    FleetJson.UnitResult[] results = new FleetJson.UnitResult[n];
    java.util.Set<String> names = new java.util.HashSet<>();
    List<UnitRecord> toCreate = new ArrayList<>();
    List<Integer> createdAt = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      FleetJson.Unit su = batch.units().get(i);
      String name = su == null || su.name() == null ? "" : su.name();
      if (name.isEmpty()) {
        throw new ApiException(400, "units[" + i + "]: no name");
      }
      if (!names.add(name)) {
        throw new ApiException(400, "units[" + i + "]: unit " + name + " is in the request twice");
      }
      try {
        UnitPut put = checkPut(name, su);
        puts.add(put);
        if (put.creatable()) {
          toCreate.add(put.record());
          createdAt.add(i);
        }
      } catch (ApiException e) {
        puts.add(null);
        results[i] = new FleetJson.UnitResult(name, e.status, e.getMessage());
      }
    }
    long t0 = System.nanoTime();
    List<Boolean> created = toCreate.isEmpty() ? List.of() : units.createAll(toCreate);
    log.debug("a batch of {} unit PUTs: {} creations took {} ms", n, toCreate.size(),
        (System.nanoTime() - t0) / 1_000_000);
    for (int k = 0; k < created.size(); k++) {
      if (created.get(k)) {
        int i = createdAt.get(k);
        results[i] = new FleetJson.UnitResult(puts.get(i).name(), 201, null);
      }
    }
    for (int i = 0; i < n; i++) {
      if (results[i] == null) {
        UnitPut put = puts.get(i);
        try {
          results[i] = new FleetJson.UnitResult(put.name(), finishPut(put).status(), null);
        } catch (ApiException e) {
          results[i] = new FleetJson.UnitResult(put.name(), e.status, e.getMessage());
        }
      }
    }
    return ok(BATCH_RESULTS_WRITER, new FleetJson.UnitBatchResults(List.of(results)));
  }

  /** Moves the desired state one neighbouring step at a time, each step conditional. */
  private void moveTo(String name, DesiredState target) {
    for (int attempt = 0; attempt < 32; attempt++) {
      Versioned<UnitRecord> v = units.unit(name).orElseThrow(() -> new ApiException(404, "unit does not exist"));
      DesiredState now = v.value().desiredState();
      if (now == target) {
        return;
      }
      units.setDesiredState(name, now.stepToward(target), v.modRevision()); // a lost race is read again
    }
    throw new ApiException(409, "unit " + name + " kept changing while its desired state was set; try again");
  }

  private static UnitFile unitFile(List<FleetJson.UnitOption> options) {
    List<UnitOption> out = new ArrayList<>(options.size());
    for (int i = 0; i < options.size(); i++) {
      FleetJson.UnitOption o = options.get(i);
      try {
        out.add(new UnitOption(o.section(), o.name(), o.value() == null ? "" : o.value()));
      } catch (IllegalArgumentException e) {
        throw new ApiException(400, "options[" + i + "]: " + e.getMessage());
      }
    }
    return UnitFile.of(out);
  }

  private static void requireJson(List<String> contentTypes) {
    if (contentTypes.size() != 1) {
      throw new ApiException(415, "expected 1 Content-Type, got " + contentTypes.size());
    }
    String type = contentTypes.get(0).split(";", 2)[0].strip();
    if (!type.equals("application/json")) {
      throw new ApiException(415, "only acceptable Content-Type is application/json");
    }
  }

  // ---- state

  private FleetJson.UnitStatePage listStates(Map<String, List<String>> query) {
    PageToken token = pageToken(query);
    String machineId = first(query, "machineID");
    String unitName = first(query, "unitName");
    // only what the page needs: one unit's states, or (unfiltered) the states up to the page's end
    List<UnitStateRecord> read = !unitName.isEmpty() ? states.statesOf(unitName)
        : machineId.isEmpty() ? states.states((int) Math.min(token.stop(), Integer.MAX_VALUE)) : states.states();
    List<UnitStateRecord> filtered = new ArrayList<>();
    for (UnitStateRecord s : read) {
      if ((machineId.isEmpty() || machineId.equals(s.machineId())) && (unitName.isEmpty() || unitName.equals(s.unit()))) {
        filtered.add(s);
      }
    }
    PageToken.Page<UnitStateRecord> page = token.slice(filtered);
    List<FleetJson.UnitState> out = new ArrayList<>(page.items().size());
    for (UnitStateRecord s : page.items()) {
      out.add(new FleetJson.UnitState(s.unit(), s.hash() == null ? null : s.hash().hex(), s.machineId(),
          s.loadState(), s.activeState(), s.subState()));
    }
    return new FleetJson.UnitStatePage(out, page.nextPageToken());
  }

  // ---- machines

  private FleetJson.MachinePage listMachines(Map<String, List<String>> query) {
    PageToken token = pageToken(query);
    List<MachineRecord> all = new ArrayList<>(machines.machines());
    all.sort(Comparator.comparing(MachineRecord::id));
    PageToken.Page<MachineRecord> page = token.slice(all);
    List<FleetJson.Machine> out = new ArrayList<>();
    for (MachineRecord m : page.items()) {
      out.add(new FleetJson.Machine(m.id(), m.publicIp(), new TreeMap<>(m.metadata())));
    }
    return new FleetJson.MachinePage(out, page.nextPageToken());
  }

  private ApiResponse patchMachines(byte[] body) {
    List<FleetJson.MetadataOp> ops;
    try {
      ops = METADATA_OPS_READER.readValue(body);
    } catch (IOException e) {
      throw new ApiException(400, firstLine(e));
    }
    if (ops == null) {
      ops = List.of();
    }
    // check every operation before changing anything
    Map<String, List<String[]>> byMachine = new LinkedHashMap<>(); // machine → [op, key, value]
    for (FleetJson.MetadataOp op : ops) {
      String o = op.op() == null ? "" : op.op();
      if (!o.equals("add") && !o.equals("remove") && !o.equals("replace")) {
        throw new ApiException(400, "invalid op: expect add, remove, or replace");
      }
      Matcher m = METADATA_PATH.matcher(op.path() == null ? "" : op.path());
      if (!m.matches()) {
        throw new ApiException(400, "machine metadata path invalid");
      }
      if (!o.equals("remove") && (op.value() == null || op.value().isEmpty())) {
        throw new ApiException(400, "invalid value: add and replace require a value");
      }
      byMachine.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(new String[] {o, m.group(2), op.value()});
    }
    Map<String, MachineRecord> found = new HashMap<>();
    for (String id : byMachine.keySet()) {
      found.put(id, machines.machine(id).orElseThrow(() -> new ApiException(404, "machine " + id + " not found")));
    }
    for (Map.Entry<String, List<String[]>> e : byMachine.entrySet()) {
      Map<String, String> md = new TreeMap<>(found.get(e.getKey()).metadata());
      for (String[] op : e.getValue()) {
        if (op[0].equals("remove")) {
          md.remove(op[1]);
        } else {
          md.put(op[1], op[2]);
        }
      }
      if (!machines.setMetadata(e.getKey(), md)) {
        throw new ApiException(404, "machine " + e.getKey() + " not found");
      }
    }
    return ApiResponse.empty(204);
  }

  // ---- helpers

  /** What a unit's JSON needs besides the unit: the schedule, reported states, reasons. */
  private record View(Map<String, String> assignments, Map<String, Map<String, UnitStateRecord>> states,
      Map<String, String> reasons) {}

  private View view() {
    Map<String, Map<String, UnitStateRecord>> byUnit = new HashMap<>();
    for (UnitStateRecord s : states.states()) {
      byUnit.computeIfAbsent(s.unit(), u -> new HashMap<>()).put(s.machineId(), s);
    }
    return new View(schedule.assignments(), byUnit, schedule.unscheduledReasons());
  }

  private static FleetJson.Unit unitJson(UnitRecord r, View view) {
    String name = r.name().name();
    List<FleetJson.UnitOption> options = new ArrayList<>();
    for (UnitOption o : r.file().options()) {
      options.add(new FleetJson.UnitOption(o.section(), o.name(), o.value()));
    }
    String machine = view.assignments().get(name);
    // fleet's rule (determineJobState): not scheduled, or not reported by its machine → inactive;
    // reported there → loaded; active there → launched. fleetctl unload waits for "inactive".
    String current = "inactive";
    if (machine != null) {
      UnitStateRecord s = view.states().getOrDefault(name, Map.of()).get(machine);
      current = s == null ? "inactive" : "active".equals(s.activeState()) ? "launched" : "loaded";
    }
    return new FleetJson.Unit(name, options, r.desiredState().json(), current, machine, view.reasons().get(name));
  }

  private static PageToken pageToken(Map<String, List<String>> query) {
    List<String> values = query.getOrDefault("nextPageToken", List.of());
    if (values.size() > 1) {
      throw new ApiException(400, "too many values for page token");
    }
    return values.isEmpty() ? PageToken.first() : PageToken.decode(values.get(0));
  }

  private static String first(Map<String, List<String>> query, String key) {
    List<String> v = query.get(key);
    return v == null || v.isEmpty() ? "" : v.get(0);
  }

  private static ApiResponse ok(ObjectWriter writer, Object body) {
    try {
      return new ApiResponse(200, writer.writeValueAsBytes(body));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write " + body.getClass().getSimpleName() + " as JSON", e);
    }
  }

  /** fleet's error body with {@code status}. */
  ApiResponse error(int status, String message) {
    try {
      return new ApiResponse(status, ERROR_WRITER.writeValueAsBytes(
          new FleetJson.ErrorBody(new FleetJson.ErrorEntity(status, message))));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String firstLine(IOException e) {
    String m = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
    if (m == null) {
      return e.getClass().getSimpleName();
    }
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }
}
