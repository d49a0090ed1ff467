package dev.flotilla.kv.compat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** Runs a session's steps against one target, in order, and records every answer. */
final class SessionRunner implements AutoCloseable {
  /** How long a watch may take to send its headers; etcd sends them at once. */
  static final Duration WATCH_HEADERS = Duration.ofSeconds(5);
  /** How long any response may take: long polls here are answered by a trigger or a 1 s TTL. */
  static final Duration RESPONSE = Duration.ofSeconds(10);

  private static final Pattern REF = Pattern.compile("\\{(idx|mod|created|seq):([^{} ]+)(?: ([+-]\\d+))?\\}");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final V2Target target;
  private final HttpClient http;
  private final ExecutorService readers;
  private final Map<String, Observation> byLabel = new HashMap<>();
  private final List<Observation> out = new ArrayList<>();

  SessionRunner(V2Target target) {
    this.target = target;
    this.readers = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "watch-reader-" + target.name());
      t.setDaemon(true);
      return t;
    });
    this.http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(Duration.ofSeconds(5))
        .executor(readers)
        .build();
  }

  List<Observation> run(List<Step> steps) {
    for (Step step : steps) {
      if (byLabel.containsKey(step.label())) {
        throw new IllegalArgumentException("duplicate step label " + step.label());
      }
      if (step instanceof Step.Call c) {
        record(call(c, out.size()));
      } else if (step instanceof Step.Watch w) {
        watch(w);
      } else if (step instanceof Step.Bulk b) {
        record(bulk(b));
      }
    }
    return List.copyOf(out);
  }

  private void record(Observation o) {
    out.add(o);
    byLabel.put(o.label(), o);
  }

  private Observation bulk(Step.Bulk b) {
    Map<Integer, Integer> statuses = new TreeMap<>();
    Observation last = null;
    List<String> problems = new ArrayList<>();
    for (int i = 1; i <= b.count(); i++) {
      String n = Integer.toString(i);
      Step.Call t = b.template();
      List<Map.Entry<String, String>> form = t.form().stream()
          .map(e -> Map.entry(e.getKey(), e.getValue().replace("{i}", n))).toList();
      Step.Call c = new Step.Call(b.label(), t.method(), t.path().replace("{i}", n), form, t.rawBody(),
          t.contentType(), t.raw());
      last = call(c, out.size());
      statuses.merge(last.status(), 1, Integer::sum);
      problems.addAll(last.problems());
    }
    String summary = b.count() + " requests (the answer shown is the last one's), statuses "
        + statuses.entrySet().stream().map(e -> e.getKey() + "x" + e.getValue()).collect(Collectors.joining(" "));
    return new Observation(last.seq(), b.label(), last.method(), last.path(), last.requestBody(), last.receivedAt(),
        last.status(), last.headers(), last.body(), summary, problems.stream().distinct().limit(5).toList());
  }

  private void watch(Step.Watch w) {
    int seq = out.size();
    List<String> problems = new ArrayList<>();
    String path = resolve(w.path(), problems);
    HttpRequest req = HttpRequest.newBuilder(uri(path)).GET().build();
    CompletableFuture<HttpResponse<InputStream>> pending = http.sendAsync(req, HttpResponse.BodyHandlers.ofInputStream());
    HttpResponse<InputStream> resp = null;
    try {
      resp = pending.get(WATCH_HEADERS.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      problems.add("watch response headers not received within " + WATCH_HEADERS
          + " (etcd flushes them as soon as the watcher is registered, before any event)");
    } catch (InterruptedException | ExecutionException e) {
      problems.add("watch failed: " + e);
    }
    // Placeholder so that the triggers get the seq numbers after the watch's own.
    out.add(null);
    List<Observation> triggers = new ArrayList<>();
    for (Step.Call t : w.triggers()) {
      Observation o = call(t, out.size());
      record(o);
      triggers.add(o);
    }
    String body = "";
    int status = 0;
    Map<String, List<String>> headers = Map.of();
    if (resp == null && problems.stream().noneMatch(p -> p.startsWith("watch failed"))) {
      try {
        resp = pending.get(RESPONSE.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException | InterruptedException | ExecutionException e) {
        pending.cancel(true);
        problems.add("watch gave no response within " + RESPONSE + " after its triggers: " + e);
      }
    }
    if (resp != null) {
      status = resp.statusCode();
      headers = headers(resp.headers().map());
      boolean stream = path.contains("stream=true");
      InputStream in = resp.body();
      Future<String> reading = readers.submit(() -> stream ? readLines(in, w.events()) : readAll(in));
      try {
        body = reading.get(RESPONSE.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        problems.add("watch body incomplete after " + RESPONSE + " (expected " + w.events() + " event(s))");
      } catch (InterruptedException | ExecutionException e) {
        problems.add("reading watch body failed: " + e);
      } finally {
        try {
          in.close(); // hang up: a stream watch never ends by itself
        } catch (IOException ignored) {
          // closing an aborted stream
        }
      }
    }
    Observation o = new Observation(seq, w.label(), "GET", path, null, Instant.now(), status, headers, body, "",
        problems);
    out.set(seq, o);
    byLabel.put(o.label(), o);
  }

  private static String readAll(InputStream in) throws IOException {
    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
  }

  private static String readLines(InputStream in, int lines) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int seen = 0;
    while (seen < lines) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      buf.write(b);
      if (b == '\n') {
        seen++;
      }
    }
    return buf.toString(StandardCharsets.UTF_8);
  }

  private Observation call(Step.Call c, int seq) {
    List<String> problems = new ArrayList<>();
    String path = resolve(c.path(), problems);
    String body;
    if (c.rawBody() != null) {
      body = resolve(c.rawBody(), problems);
    } else if (!c.form().isEmpty()) {
      body = c.form().stream()
          .map(e -> enc(e.getKey()) + "=" + enc(resolve(e.getValue(), problems)))
          .collect(Collectors.joining("&"));
    } else {
      body = null;
    }
    int status = 0;
    Map<String, List<String>> headers = Map.of();
    String text = "";
    try {
      if (c.raw()) {
        RawHttp.Response r = RawHttp.send(target.clientUrl(), c.method(), path, body, c.contentType());
        status = r.status();
        headers = headers(r.headers());
        text = new String(r.body(), StandardCharsets.UTF_8);
      } else {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(RESPONSE);
        b.method(c.method(), body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (body != null && c.contentType() != null) {
          b.header("Content-Type", c.contentType());
        }
        HttpResponse<byte[]> r = http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofByteArray())
            .get(RESPONSE.toMillis(), TimeUnit.MILLISECONDS);
        status = r.statusCode();
        headers = headers(r.headers().map());
        text = new String(r.body(), StandardCharsets.UTF_8);
      }
    } catch (IOException | ExecutionException | TimeoutException e) {
      problems.add("request failed: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      problems.add("interrupted");
    }
    return new Observation(seq, c.label(), c.method(), path, body, Instant.now(), status, headers, text, "", problems);
  }

  private URI uri(String path) {
    return URI.create(target.clientUrl() + path);
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static Map<String, List<String>> headers(Map<String, List<String>> raw) {
    Map<String, List<String>> h = new LinkedHashMap<>();
    raw.forEach((k, v) -> {
      if (!k.startsWith(":")) {
        h.computeIfAbsent(k.toLowerCase(Locale.ROOT), x -> new ArrayList<>()).addAll(v);
      }
    });
    return h;
  }

  /** Replaces {@code {idx:L}}-style references with this target's own earlier answers. */
  private String resolve(String s, List<String> problems) {
    Matcher m = REF.matcher(s);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      String kind = m.group(1);
      String label = m.group(2);
      long delta = m.group(3) == null ? 0 : Long.parseLong(m.group(3));
      Long v = lookup(kind, label);
      String rep;
      if (v == null) {
        problems.add("cannot resolve " + m.group() + ": step " + label + " has no such value");
        rep = "UNRESOLVED";
      } else if (kind.equals("seq")) {
        rep = String.format("%020d", v + delta);
      } else {
        rep = Long.toString(v + delta);
      }
      m.appendReplacement(sb, Matcher.quoteReplacement(rep));
    }
    m.appendTail(sb);
    return sb.toString();
  }

  private Long lookup(String kind, String label) {
    Observation o = byLabel.get(label);
    if (o == null) {
      return null;
    }
    if (kind.equals("idx")) {
      String h = o.header("X-Etcd-Index");
      return h == null ? null : Long.valueOf(h);
    }
    try {
      JsonNode node = JSON.readTree(o.body()).path("node");
      JsonNode v = node.path(kind.equals("mod") ? "modifiedIndex" : "createdIndex");
      return v.isIntegralNumber() ? v.asLong() : null;
    } catch (IOException e) {
      return null;
    }
  }

  @Override
  public void close() {
    readers.shutdownNow();
  }
}
