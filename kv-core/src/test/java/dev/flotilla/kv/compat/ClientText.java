package dev.flotilla.kv.compat;

import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * For the client tests (etcdctl, python-etcd): a few plain HTTP calls to a target (its current
 * index, a key's modifiedIndex, a write that a watching client waits for), the normalisation of
 * client output text, and a line-by-line comparison.
 */
final class ClientText {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern INDEXES = Pattern.compile(
      "(?<=\\[)\\d+(?=\\]$)" // etcdctl's "Error:  100: Key not found (/k) [12]"
          + "|(?<=Index: )\\d+" // -o extended: "Created-Index: 12", "Modified-Index: 12", "Index: 12"
          + "|(?<=\"(?:createdIndex|modifiedIndex)\":)\\d+" // -o json
          + "|(?<=\\[)\\d+(?= != \\d+\\])|(?<=\\[\\d{1,19} != )\\d+(?=\\])" // a failed prevIndex: [12 != 13]
          + "|(?<=index=)\\d+", // our own exec-watch line
      Pattern.MULTILINE);
  private static final Pattern SEQ_NAME = Pattern.compile("(?<=/)\\d{20}\\b");
  /** Go prints member ids in hex without leading zeros, so 1 to 16 digits: matched only where etcdctl puts them. */
  private static final Pattern MEMBER_ID = Pattern.compile(
      "(?<=^member )[0-9a-f]{1,16}(?= is )|^[0-9a-f]{1,16}(?=: name=)", Pattern.MULTILINE);
  private static final Pattern LOOPBACK_URL = Pattern.compile("http://127\\.0\\.0\\.1:\\d+");

  private ClientText() {
  }

  static long currentIndex(URI base) {
    HttpResponse<String> r = send(HttpRequest.newBuilder(base.resolve("/v2/keys/")).GET().build());
    return Long.parseLong(r.headers().firstValue("X-Etcd-Index").orElseThrow(
        () -> new IllegalStateException("no X-Etcd-Index from " + base + ": " + r.body())));
  }

  static long modifiedIndex(URI base, String key) {
    HttpResponse<String> r = send(HttpRequest.newBuilder(base.resolve("/v2/keys" + key)).GET().build());
    try {
      return JSON.readTree(r.body()).path("node").path("modifiedIndex").asLong();
    } catch (IOException e) {
      throw new UncheckedIOException("GET " + key + " on " + base + " answered " + r.body(), e);
    }
  }

  static void put(URI base, String key, String value) {
    HttpResponse<String> r = send(HttpRequest.newBuilder(base.resolve("/v2/keys" + key))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .PUT(HttpRequest.BodyPublishers.ofString("value=" + URLEncoder.encode(value, StandardCharsets.UTF_8)))
        .build());
    if (r.statusCode() / 100 != 2) {
      throw new IllegalStateException("PUT " + key + " on " + base + " answered " + r.statusCode() + " " + r.body());
    }
  }

  private static HttpResponse<String> send(HttpRequest req) {
    try {
      return HTTP.send(req, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(req.uri().toString(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Indexes as offsets from {@code base}, in-order names likewise, member ids and URLs as tokens. */
  static String normalise(String text, long base, URI clientUrl) {
    String s = text.replace(clientUrl.toString(), "<client-url>");
    s = LOOPBACK_URL.matcher(s).replaceAll("<peer-url>");
    s = MEMBER_ID.matcher(s).replaceAll("<member-id>");
    s = replaceNumbers(SEQ_NAME, s, n -> "<seq" + offset(n - base) + ">");
    s = replaceNumbers(INDEXES, s, n -> "<i" + offset(n - base) + ">");
    return s;
  }

  private static String offset(long d) {
    return (d >= 0 ? "+" : "") + d;
  }

  private static String replaceNumbers(Pattern p, String s, java.util.function.LongFunction<String> f) {
    Matcher m = p.matcher(s);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(sb, Matcher.quoteReplacement(f.apply(Long.parseLong(m.group()))));
    }
    m.appendTail(sb);
    return sb.toString();
  }

  /** "line 3: etcd: ... | kvd: ..." for each differing line; empty when equal. */
  static List<String> lineDiff(String refName, String ref, String candName, String cand) {
    List<String> out = new ArrayList<>();
    String[] a = ref.split("\n", -1);
    String[] b = cand.split("\n", -1);
    for (int i = 0; i < Math.max(a.length, b.length); i++) {
      String x = i < a.length ? a[i] : "(no line)";
      String y = i < b.length ? b[i] : "(no line)";
      if (!x.equals(y)) {
        out.add("line " + (i + 1) + ":\n      " + refName + ": " + x + "\n      " + candName + ": " + y);
      }
    }
    return out;
  }
}
