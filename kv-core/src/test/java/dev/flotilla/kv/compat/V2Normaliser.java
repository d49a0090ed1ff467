package dev.flotilla.kv.compat;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rewrites one target's answers into a form that two correct servers agree on byte for byte:
 * every index becomes an offset from the index the session started at ({@code <i+5>}), in-order key
 * names (20-digit indexes) likewise ({@code <seq+5>}), {@code expiration} a token once checked to
 * be RFC 3339 and about now + ttl, member ids and URLs tokens, and {@code nodes} arrays sorted by key
 * unless the request asked for {@code sorted=true} (etcd lists a directory in Go map order).
 * What is left must be equal; {@code ttl} may drift by a few seconds between servers in {@link SessionDiff}.
 */
final class V2Normaliser {
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  /** Headers compared verbatim. */
  static final List<String> LITERAL_HEADERS = List.of("content-type", "location", "allow",
      "x-content-type-options", "access-control-allow-origin", "access-control-allow-methods",
      "access-control-allow-headers");
  /** Headers whose presence (and shape) is compared, not their value. */
  private static final Map<String, Pattern> PRESENT_HEADERS = Map.of(
      "x-raft-index", Pattern.compile("\\d+"),
      "x-raft-term", Pattern.compile("\\d+"),
      "x-etcd-cluster-id", Pattern.compile("[0-9a-f]{1,16}"));

  /** Go's time.RFC3339Nano in UTC: fraction without trailing zeros, 'Z'. */
  static final Pattern RFC3339_NANO = Pattern.compile("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{0,8}[1-9])?Z");
  private static final Pattern GO_DURATION = Pattern.compile("(\\d+h)?(\\d+m)?\\d+(\\.\\d+)?(s|ms|µs|ns)");
  private static final Pattern MEMBER_ID = Pattern.compile("[0-9a-f]{1,16}");
  private static final Pattern LOOPBACK_URL = Pattern.compile("http://127\\.0\\.0\\.1:\\d+");
  private static final Pattern SEQ_NAME = Pattern.compile("(?<=/)\\d{20}(?=/|$)");
  private static final Pattern HISTORY_CAUSE = Pattern.compile("\\[(\\d+)/(\\d+)\\]");
  private static final Pattern COMPARE_CAUSE = Pattern.compile("\\[(\\S*) != (\\S*)\\]");
  private static final Pattern JSON_ESCAPE = Pattern.compile("\\\\(u[0-9a-fA-F]{4}|.)");
  private static final Duration EXPIRATION_SLACK = Duration.ofSeconds(3);

  /** One answer after normalisation; {@link SessionDiff} compares these field by field. */
  record Normalised(int seq, String label, String request, int status, Map<String, String> headers,
      List<JsonNode> json, String text, List<String> escapes, boolean trailingNewline, String summary,
      List<String> problems, String rawBody) {
  }

  private final long base;
  private final String clientUrl;
  /**
   * Index 0 is what etcd puts in errors found before the store is asked (bad parameters). A
   * server that starts at index 0 also answers the session's first read with 0; that one is the
   * base. The session writes right after, so later zeros are always the parse-error kind.
   */
  private boolean zeroIsLiteral = true;

  V2Normaliser(long base, URI clientUrl) {
    this.base = base;
    this.clientUrl = clientUrl.toString();
  }

  /** The session's first step must be a read of the root; its X-Etcd-Index is the base. */
  static V2Normaliser forSession(List<Observation> session, URI clientUrl) {
    String idx = session.isEmpty() ? null : session.get(0).header("X-Etcd-Index");
    if (idx == null) {
      throw new IllegalStateException("the session's first answer has no X-Etcd-Index to take as base: "
          + (session.isEmpty() ? "no answers" : session.get(0)));
    }
    return new V2Normaliser(Long.parseLong(idx), clientUrl);
  }

  List<Normalised> normalise(List<Observation> session) {
    return session.stream().map(this::normalise).toList();
  }

  Normalised normalise(Observation o) {
    zeroIsLiteral = o.seq() > 0;
    List<String> problems = new ArrayList<>(o.problems());
    Map<String, String> params = params(o);
    Map<String, String> headers = new TreeMap<>();
    for (String h : LITERAL_HEADERS) {
      String v = o.header(h);
      if (v != null) {
        headers.put(h, v);
      }
    }
    String etcdIndex = o.header("x-etcd-index");
    if (etcdIndex != null) {
      headers.put("x-etcd-index", etcdIndex.matches("\\d+") ? index(Long.parseLong(etcdIndex)) : "bad: " + etcdIndex);
    }
    PRESENT_HEADERS.forEach((h, shape) -> {
      String v = o.header(h);
      if (v != null) {
        headers.put(h, shape.matcher(v).matches() ? "present" : "malformed: " + v);
      }
    });

    List<JsonNode> json = List.of();
    String text = "";
    String contentType = o.header("content-type");
    boolean isJson = contentType != null && contentType.startsWith("application/json") && !o.body().isEmpty();
    if (isJson) {
      try {
        json = new ArrayList<>();
        try (MappingIterator<JsonNode> it = JSON.readerFor(JsonNode.class).readValues(o.body())) {
          while (it.hasNext()) {
            JsonNode doc = it.next().deepCopy();
            json.add(normaliseJson(doc, null, params, o, problems));
          }
        }
      } catch (IOException | RuntimeException e) {
        problems.add("body is not JSON although Content-Type says so: " + e.getMessage());
        json = List.of();
        text = o.body();
      }
    } else {
      text = o.body().replace(clientUrl, "<client-url>");
    }
    List<String> escapes = new ArrayList<>();
    Matcher m = JSON_ESCAPE.matcher(o.body());
    while (m.find()) {
      escapes.add(m.group().toLowerCase(java.util.Locale.ROOT)); // \u001F and \u001f are the same JSON
    }
    escapes.sort(Comparator.naturalOrder());
    return new V2Normaliser.Normalised(o.seq(), o.label(), o.request(), o.status(), headers, json, text, escapes,
        o.body().endsWith("\n"), o.summary(), problems, o.body());
  }

  String index(long v) {
    if (v == 0 && zeroIsLiteral) {
      return "0"; // parse errors carry index 0: not an offset
    }
    long d = v - base;
    return "<i" + (d >= 0 ? "+" : "") + d + ">";
  }

  String seqNames(String key) {
    Matcher m = SEQ_NAME.matcher(key);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      long d = Long.parseLong(m.group()) - base;
      m.appendReplacement(sb, Matcher.quoteReplacement("<seq" + (d >= 0 ? "+" : "") + d + ">"));
    }
    m.appendTail(sb);
    return sb.toString();
  }

  private JsonNode normaliseJson(JsonNode n, String field, Map<String, String> params, Observation o,
      List<String> problems) {
    if (n instanceof ObjectNode obj) {
      Map<String, JsonNode> rewritten = new LinkedHashMap<>();
      Iterator<Map.Entry<String, JsonNode>> it = obj.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        rewritten.put(e.getKey(), normaliseField(obj, e.getKey(), e.getValue(), params, o, problems));
      }
      ObjectNode copy = NODES.objectNode();
      rewritten.forEach(copy::set);
      return copy;
    }
    if (n instanceof ArrayNode arr) {
      ArrayNode copy = NODES.arrayNode();
      for (JsonNode e : arr) {
        copy.add(normaliseJson(e, field, params, o, problems));
      }
      if ("nodes".equals(field) && !goBool(params.get("sorted"))) {
        List<JsonNode> items = new ArrayList<>();
        copy.forEach(items::add);
        items.sort(Comparator.comparing(x -> x.path("key").asText()));
        ArrayNode sorted = NODES.arrayNode();
        items.forEach(sorted::add);
        return sorted;
      }
      return copy;
    }
    if (n.isTextual()) {
      String s = n.asText();
      if (s.equals(clientUrl)) {
        return TextNode.valueOf("<client-url>");
      }
      if (LOOPBACK_URL.matcher(s).matches()) {
        return TextNode.valueOf("<peer-url>");
      }
    }
    return n;
  }

  private JsonNode normaliseField(ObjectNode owner, String name, JsonNode v, Map<String, String> params,
      Observation o, List<String> problems) {
    switch (name) {
      case "createdIndex", "modifiedIndex" -> {
        return v.isIntegralNumber() ? TextNode.valueOf(index(v.asLong())) : v;
      }
      case "index" -> {
        return owner.has("errorCode") && v.isIntegralNumber() ? TextNode.valueOf(index(v.asLong())) : v;
      }
      case "key" -> {
        return v.isTextual() ? TextNode.valueOf(seqNames(v.asText())) : v;
      }
      case "cause" -> {
        return v.isTextual() ? TextNode.valueOf(cause(owner.path("errorCode").asInt(), v.asText(), params)) : v;
      }
      case "expiration" -> {
        checkExpiration(owner, v, params, o, problems);
        return TextNode.valueOf("<expiration>");
      }
      case "id", "leader" -> {
        if (v.isTextual() && MEMBER_ID.matcher(v.asText()).matches()) {
          return TextNode.valueOf("<member-id>");
        }
        return v;
      }
      case "startTime" -> {
        if (!v.isTextual() || !parses(v.asText())) {
          problems.add("startTime " + v + " is not RFC 3339");
        }
        return TextNode.valueOf("<time>");
      }
      case "uptime" -> {
        if (!v.isTextual() || !GO_DURATION.matcher(v.asText()).matches()) {
          problems.add("uptime " + v + " is not a Go duration such as 1m2.5s");
        }
        return TextNode.valueOf("<duration>");
      }
      default -> {
        return normaliseJson(v, name, params, o, problems);
      }
    }
  }

  private static boolean parses(String t) {
    try {
      Instant.parse(t);
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private void checkExpiration(ObjectNode owner, JsonNode v, Map<String, String> params, Observation o,
      List<String> problems) {
    String key = owner.path("key").asText("?");
    if (!v.isTextual() || !RFC3339_NANO.matcher(v.asText()).matches()) {
      problems.add("expiration of " + key + " is " + v + ", not Go's RFC3339Nano in UTC (e.g. 2026-01-02T03:04:05.5Z)");
      return;
    }
    if (goBool(params.get("wait"))) {
      return; // an event from history: its ttl was computed when it happened, not now
    }
    Instant exp = Instant.parse(v.asText());
    long ttl = owner.path("ttl").asLong(0);
    Instant expected = o.receivedAt().plusSeconds(ttl);
    if (Duration.between(expected, exp).abs().compareTo(EXPIRATION_SLACK) > 0) {
      problems.add("expiration of " + key + " is " + exp + " but ttl " + ttl + " at " + o.receivedAt()
          + " means about " + expected);
    }
  }

  private String cause(int errorCode, String cause, Map<String, String> params) {
    switch (errorCode) {
      case 401 -> {
        Matcher m = HISTORY_CAUSE.matcher(cause);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
          m.appendReplacement(sb, Matcher.quoteReplacement(
              "[" + index(Long.parseLong(m.group(1))) + "/" + index(Long.parseLong(m.group(2))) + "]"));
        }
        m.appendTail(sb);
        return sb.toString();
      }
      case 101 -> {
        // "[prevValue != value]" and/or "[prevIndex != modifiedIndex]": only the latter holds indexes
        String prevIndex = params.get("prevIndex");
        Matcher m = COMPARE_CAUSE.matcher(cause);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
          String rep = m.group();
          if (prevIndex != null && m.group(1).equals(prevIndex) && m.group(2).matches("\\d+")) {
            rep = "[" + index(Long.parseLong(m.group(1))) + " != " + index(Long.parseLong(m.group(2))) + "]";
          }
          m.appendReplacement(sb, Matcher.quoteReplacement(rep));
        }
        m.appendTail(sb);
        return sb.toString();
      }
      default -> {
        return seqNames(cause);
      }
    }
  }

  /** Go's strconv.ParseBool truths; anything else (including absence) is false here. */
  static boolean goBool(String v) {
    return v != null && Set.of("1", "t", "T", "TRUE", "true", "True").contains(v);
  }

  /**
   * The request's parameters as Go's {@code Request.FormValue} sees them: a PUT/POST form body
   * first, then the query; the first value of each name wins.
   */
  static Map<String, String> params(Observation o) {
    Map<String, String> p = new LinkedHashMap<>();
    if (o.requestBody() != null && (o.method().equals("PUT") || o.method().equals("POST"))) {
      parseInto(o.requestBody(), p);
    }
    int q = o.path().indexOf('?');
    if (q >= 0) {
      parseInto(o.path().substring(q + 1), p);
    }
    return p;
  }

  private static void parseInto(String query, Map<String, String> into) {
    for (String kv : query.split("&")) {
      if (kv.isEmpty()) {
        continue;
      }
      int eq = kv.indexOf('=');
      String k = eq < 0 ? kv : kv.substring(0, eq);
      String v = eq < 0 ? "" : kv.substring(eq + 1);
      try {
        into.putIfAbsent(URLDecoder.decode(k, java.nio.charset.StandardCharsets.UTF_8),
            URLDecoder.decode(v, java.nio.charset.StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        into.putIfAbsent(k, v); // a deliberately malformed escape
      }
    }
  }
}
