package dev.flotilla.cli.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flotilla.cli.client.FleetSchema.Machine;
import dev.flotilla.cli.client.FleetSchema.Unit;
import dev.flotilla.cli.client.FleetSchema.UnitOption;
import dev.flotilla.cli.client.FleetSchema.UnitState;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.IntStream;

/**
 * fleet's API v1 as fleetctl's client package sees it: units, their states and the machines, with
 * fleet's paging followed to the end. Errors become {@link ApiErrorException} (fleetd said no) or
 * {@link UnreachableException} (no answer).
 */
public final class FleetClient implements AutoCloseable {
  private static final String BASE = "/fleet/v1";
  /** Flotilla's own resources, served beside fleet's by fleetd (status and journal from a unit's machine). */
  private static final String HOST_BASE = "/flotilla/v1";
  /** A guard against a server that hands out page tokens forever (fleet pages by 100). */
  private static final int MAX_PAGES = 100_000;
  /**
   * What one GET of a unit costs, in units read in a page: fleetd spends 0.15-0.3 ms of CPU on a
   * GET (404 or found) and 3.9-5.2 ms on a page of 100 units (measured with 1,000 units), so a GET
   * is worth 5-10 units of a page (10: a page is also one round trip where the GETs are many).
   */
  private static final int UNITS_PER_GET = 10;

  /** Flotilla's batch of unit PUTs (not fleet's): see {@link #putAll}. */
  private static final String BATCH_PATH = "/flotilla/v1/units";
  /**
   * Units per batch request: as many as fleetd takes (1,000), which sends their store txns (128
   * units each) side by side, so that a burst lands in one commit and is placed in one pass.
   */
  static final int BATCH_UNITS = 1_000;

  private final FleetHttp http;
  /** The server answered the batch resource 404 or 405: per-unit PUTs from then on. */
  private boolean batchUnsupported;
  private final Endpoint endpoint;
  private final ObjectMapper json = Json.MAPPER;

  public FleetClient(FleetHttp http, Endpoint endpoint) {
    this.http = http;
    this.endpoint = endpoint;
  }

  public Endpoint endpoint() {
    return endpoint;
  }

  /** Every unit, sorted by name (fleetd's order). */
  public List<Unit> units() {
    return pages("/units", FleetSchema.UnitPage.class, FleetSchema.UnitPage::units, FleetSchema.UnitPage::nextPageToken);
  }

  /**
   * The units of {@code names} that exist, by name (a name missing from the answer has no unit).
   * Reads the listing a page at a time while the units read are fewer than {@link #UNITS_PER_GET}
   * times the names left to find, then GETs each name still left, side by side, so the requests
   * stay within about twice the cheaper of a whole listing and a GET per name, whatever the
   * cluster's size (300 names: one request in a cluster of ten units; in one of 100,000, 30 pages
   * and at most 300 GETs instead of 1,000 pages).
   */
  public Map<String, Unit> unitsNamed(Collection<String> names) {
    Set<String> left = new LinkedHashSet<>(names);
    Map<String, Unit> found = new HashMap<>();
    String token = null;
    long read = 0;
    for (int i = 0; !left.isEmpty() && (i == 0 || read < (long) UNITS_PER_GET * left.size()); i++) {
      if (i == MAX_PAGES) {
        throw tooManyPages("/units");
      }
      FleetSchema.UnitPage page = page("/units", token, FleetSchema.UnitPage.class);
      for (Unit u : page.units() == null ? List.<Unit>of() : page.units()) {
        if (left.remove(u.name())) {
          found.put(u.name(), u);
        }
        read++;
      }
      token = page.nextPageToken();
      if (token == null || token.isEmpty()) {
        return found; // the whole listing: what is left does not exist
      }
    }
    List<String> rest = new ArrayList<>(left);
    Unit[] got = new Unit[rest.size()];
    List<Integer> indices = IntStream.range(0, rest.size()).boxed().toList();
    Concurrently.throwFirst(Concurrently.attempt(indices, i -> got[i] = unit(rest.get(i)).orElse(null)));
    for (Unit u : got) {
      if (u != null) {
        found.put(u.name(), u);
      }
    }
    return found;
  }

  /** One unit; empty when fleetd has none by that name. */
  public Optional<Unit> unit(String name) {
    String path = BASE + "/units/" + escape(name);
    FleetHttp.Response r = http.send("GET", path, null);
    if (r.status() == 404) {
      return Optional.empty();
    }
    check("GET " + path, r, 200);
    return Optional.of(read("GET " + path, r, Unit.class));
  }

  /** Submits a new unit with these options (and, when not null, a desired state). */
  public void createUnit(String name, List<UnitOption> options, String desiredState) {
    put(name, creation(name, options, desiredState), 201);
  }

  /** The PUT body of {@link #createUnit} (expected answer 201), for {@link #putAll}. */
  public static FleetSchema.UnitRequest creation(String name, List<UnitOption> options, String desiredState) {
    return new FleetSchema.UnitRequest(name, options, desiredState);
  }

  /** The PUT body of {@link #setDesiredState} (expected answer 204), for {@link #putAll}. */
  public static FleetSchema.UnitRequest stateChange(String name, String desiredState) {
    return new FleetSchema.UnitRequest(name, null, desiredState);
  }

  /** Moves an existing unit's desired state (inactive, loaded, launched). */
  public void setDesiredState(String name, String desiredState) {
    put(name, stateChange(name, desiredState), 204);
  }

  /**
   * The PUTs of {@link #createUnit} or {@link #setDesiredState} for many units: one batch request
   * per {@link #BATCH_UNITS} where fleetd offers it ({@link #putAll}), else one PUT per unit, side
   * by side. The failure of each (null: answered {@code expected}), in order.
   */
  public List<RuntimeException> putEach(List<FleetSchema.UnitRequest> requests, int expected) {
    if (requests.size() > 1) {
      Optional<List<RuntimeException>> batched = putAll(requests, expected);
      if (batched.isPresent()) {
        return batched.get();
      }
    }
    return Concurrently.attempt(requests, q -> put(q.name(), q, expected));
  }

  /**
   * The PUTs of {@link #createUnit} and {@link #setDesiredState} for many units, through
   * Flotilla's batch ({@code POST /flotilla/v1/units}) when fleetd offers it: the failure of each
   * (null: answered {@code expected}), in order, each as its own PUT would have failed. Empty when
   * the server has no batch resource (fleet itself, an older fleetd: 404 or 405, nothing done),
   * and the caller sends one PUT per unit.
   *
   * <p>{@link #BATCH_UNITS} units a request, the requests side by side: fleetd writes a request's
   * units in txns of 128 sent side by side, so a request of 300 takes about as long as one PUT's
   * group commit and the request timeout that suits a PUT suits it (when those txns went one after
   * another, 300 units in one request took over 3 s on a busy machine: fctl sent 128 a request).
   */
  Optional<List<RuntimeException>> putAll(List<FleetSchema.UnitRequest> requests, int expected) {
    if (batchUnsupported) {
      return Optional.empty();
    }
    RuntimeException[] out = new RuntimeException[requests.size()];
    List<Integer> starts = new ArrayList<>();
    for (int from = 0; from < requests.size(); from += BATCH_UNITS) {
      starts.add(from);
    }
    java.util.concurrent.atomic.AtomicInteger refused = new java.util.concurrent.atomic.AtomicInteger();
    Concurrently.attempt(starts, from -> {
      List<FleetSchema.UnitRequest> chunk = requests.subList(from, Math.min(requests.size(), from + BATCH_UNITS));
      RuntimeException[] answers = sendBatch(chunk, expected, refused);
      System.arraycopy(answers, 0, out, from, answers.length);
    });
    if (refused.get() > 0) {
      batchUnsupported = true;
      if (refused.get() == starts.size()) {
        return Optional.empty();
      }
    }
    return Optional.of(java.util.Arrays.asList(out));
  }

  /** One batch request: each unit's failure (null: answered {@code expected}); 404/405 counted in {@code refused}. */
  private RuntimeException[] sendBatch(List<FleetSchema.UnitRequest> chunk, int expected,
      java.util.concurrent.atomic.AtomicInteger refused) {
    RuntimeException[] out = new RuntimeException[chunk.size()];
    String request = "POST " + BATCH_PATH;
    FleetHttp.Response r;
    try {
      r = http.send("POST", BATCH_PATH, json.writeValueAsBytes(new FleetSchema.UnitBatch(chunk)));
      if (r.status() == 404 || r.status() == 405) {
        refused.incrementAndGet(); // no such resource here: nothing was done
      }
      check(request, r, 200);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a unit batch as JSON", e);
    } catch (RuntimeException e) {
      java.util.Arrays.fill(out, e); // unreachable, or refused whole: each unit of it failed so
      return out;
    }
    List<FleetSchema.UnitResult> results = read(request, r, FleetSchema.UnitBatchResults.class).resultList();
    if (results.size() != chunk.size()) {
      java.util.Arrays.fill(out, new FleetClientException("fleetd at " + endpoint + " answered a batch of "
          + chunk.size() + " units with " + results.size() + " results"));
      return out;
    }
    for (int i = 0; i < chunk.size(); i++) {
      FleetSchema.UnitResult res = results.get(i);
      String put = "PUT " + BASE + "/units/" + escape(chunk.get(i).name());
      out[i] = res.status() == expected ? null
          : new ApiErrorException(put, res.status(), res.message() == null ? "" : res.message());
    }
    return out;
  }

  /** Destroys a unit; false when there was none by that name. */
  public boolean destroyUnit(String name) {
    String path = BASE + "/units/" + escape(name);
    FleetHttp.Response r = http.send("DELETE", path, null);
    if (r.status() == 404) {
      return false;
    }
    check("DELETE " + path, r, 204);
    return true;
  }

  /** What agents report about the units they run. */
  public List<UnitState> unitStates() {
    return pages("/state", FleetSchema.UnitStatePage.class, FleetSchema.UnitStatePage::states,
        FleetSchema.UnitStatePage::nextPageToken);
  }

  /** The machines present, sorted by ID. */
  public List<Machine> machines() {
    return pages("/machines", FleetSchema.MachinePage.class, FleetSchema.MachinePage::machines,
        FleetSchema.MachinePage::nextPageToken);
  }

  /** {@code systemctl status} of a unit from its machine ({@code machine}: the one to ask, or null). */
  public FleetSchema.HostStatus status(String unit, String machine) {
    return host(unit, "status", query("machine", machine), FleetSchema.HostStatus.class);
  }

  /** The last {@code lines} lines of a unit's output on its machine, and the cursor past them. */
  public FleetSchema.JournalPage journal(String unit, String machine, int lines) {
    return host(unit, "journal", "?lines=" + lines + query("&machine", machine), FleetSchema.JournalPage.class);
  }

  /** What the unit wrote on {@code machine} after {@code cursor} (from an earlier page of that machine). */
  public FleetSchema.JournalPage journalAfter(String unit, String machine, String cursor) {
    return host(unit, "journal", "?after=" + URLEncoder.encode(cursor, StandardCharsets.UTF_8)
        + query("&machine", machine), FleetSchema.JournalPage.class);
  }

  private <T> T host(String unit, String what, String query, Class<T> type) {
    String path = HOST_BASE + "/units/" + escape(unit) + "/" + what + query;
    FleetHttp.Response r = http.send("GET", path, null);
    check("GET " + path, r, 200);
    return read("GET " + path, r, type);
  }

  private static String query(String key, String value) {
    if (value == null) {
      return "";
    }
    return (key.startsWith("&") ? key : "?" + key) + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  private void put(String name, FleetSchema.UnitRequest body, int expected) {
    String path = BASE + "/units/" + escape(name);
    byte[] bytes;
    try {
      bytes = json.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a unit request as JSON", e);
    }
    FleetHttp.Response r = http.send("PUT", path, bytes);
    check("PUT " + path, r, expected);
  }

  private <P, T> List<T> pages(String resource, Class<P> pageType, Function<P, List<T>> items,
      Function<P, String> next) {
    List<T> out = new ArrayList<>();
    String token = null;
    for (int i = 0; i < MAX_PAGES; i++) {
      P page = page(resource, token, pageType);
      List<T> got = items.apply(page);
      if (got != null) {
        out.addAll(got);
      }
      token = next.apply(page);
      if (token == null || token.isEmpty()) {
        return out;
      }
    }
    throw tooManyPages(resource);
  }

  /** One page of a listing: the first ({@code token} null) or the one a page's token names. */
  private <P> P page(String resource, String token, Class<P> pageType) {
    String path = BASE + resource + (token == null ? "" : "?nextPageToken=" + URLEncoder.encode(token, StandardCharsets.UTF_8));
    FleetHttp.Response r = http.send("GET", path, null);
    check("GET " + path, r, 200);
    return read("GET " + path, r, pageType);
  }

  private FleetClientException tooManyPages(String resource) {
    return new FleetClientException("fleetd at " + endpoint + " kept returning pages of " + resource + " after "
        + MAX_PAGES + "; giving up");
  }

  private void check(String request, FleetHttp.Response r, int expected) {
    if (r.status() == expected) {
      return;
    }
    String message = "";
    if (r.body().length > 0) {
      try {
        FleetSchema.ErrorBody e = json.readValue(r.body(), FleetSchema.ErrorBody.class);
        message = e == null || e.error() == null || e.error().message() == null ? "" : e.error().message();
      } catch (IOException notFleetJson) {
        message = new String(r.body(), StandardCharsets.UTF_8).strip();
        if (message.length() > 200) {
          message = message.substring(0, 200) + "...";
        }
      }
    }
    throw new ApiErrorException(request, r.status(), message);
  }

  private <T> T read(String request, FleetHttp.Response r, Class<T> type) {
    try {
      T value = json.readValue(r.body(), type);
      if (value == null) {
        throw new FleetClientException("fleetd at " + endpoint + " answered " + request + " with an empty body");
      }
      return value;
    } catch (IOException e) {
      String m = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
      throw new FleetClientException("fleetd at " + endpoint + " answered " + request
          + " with something that is not fleet API JSON: " + m, e);
    }
  }

  private static ObjectMapper mapper() {
    return new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
  }

  /** The mapper every client shares (configured once, then thread-safe), made on first use. */
  private static final class Json {
    static final ObjectMapper MAPPER = mapper();
  }

  /**
   * Makes the shared mapper and its readers of the answers a command reads first (a unit page, a
   * batch's results, an error) and its writer of a batch, as the first requests would: fctl calls
   * it on a thread of its own while picocli parses the command line, so that they are ready (or
   * being finished) when the main thread gets there.
   */
  public static void prepare() {
    ObjectMapper json = Json.MAPPER;
    json.readerFor(FleetSchema.UnitPage.class);
    json.readerFor(FleetSchema.UnitBatchResults.class);
    json.readerFor(FleetSchema.ErrorBody.class);
    json.writerFor(FleetSchema.UnitBatch.class);
  }

  /**
   * Writes each shape of fleet's API this client sends and reads each it receives, once, with no
   * server: what loads the JSON classes of every command into the launcher's class archive when a
   * command that uses fewer of them writes it ({@code dev.flotilla.cli.ArchiveWarmUp}).
   */
  public static void exerciseJson() throws IOException {
    ObjectMapper json = mapper();
    List<UnitOption> options = List.of(new UnitOption("Service", "ExecStart", "/bin/true"));
    Unit unit = new Unit("a.service", options, "launched", "inactive", "m", "why");
    UnitState state = new UnitState("a.service", "h", "m", "loaded", "active", "running");
    Machine machine = new Machine("m", "127.0.0.1", java.util.Map.of("k", "v"));
    List<Object> shapes = List.of(unit,
        new FleetSchema.UnitPage(List.of(unit), "t"),
        new FleetSchema.UnitStatePage(List.of(state), "t"),
        new FleetSchema.MachinePage(List.of(machine), "t"),
        new FleetSchema.HostStatus("a.service", "m", "s"),
        new FleetSchema.JournalPage("a.service", "m", List.of("l"), "c"),
        new FleetSchema.UnitBatch(List.of(creation("a.service", options, "launched"), stateChange("a.service", "loaded"))),
        new FleetSchema.UnitBatchResults(List.of(new FleetSchema.UnitResult("a.service", 201, "m"))),
        new FleetSchema.ErrorBody(new FleetSchema.ErrorEntity(409, "m")));
    for (Object shape : shapes) {
      json.readValue(json.writeValueAsBytes(shape), shape.getClass());
    }
  }

  /** Percent-encodes a unit name for a path segment ({@code \} in escaped names, mostly). */
  static String escape(String name) {
    StringBuilder sb = new StringBuilder();
    for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '-' || c == '_' || c == '.' || c == '~' || c == '@' || c == ':') {
        sb.append((char) c);
      } else {
        sb.append('%').append(String.format("%02X", c));
      }
    }
    return sb.toString();
  }

  @Override
  public void close() {
    http.close();
  }
}
