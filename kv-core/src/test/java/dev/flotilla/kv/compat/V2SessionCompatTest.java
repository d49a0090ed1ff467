package dev.flotilla.kv.compat;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.kv.compat.V2Normaliser.Normalised;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The differential v2 session ({@link V2Session}) against real etcd 3.4 and a candidate: kvd, or
 * a second etcd. etcd against etcd must show no difference at all; that is what makes a
 * difference against kvd mean something. Transcripts and the difference report go to
 * {@code target/compat-logs/}.
 */
class V2SessionCompatTest {

  @ParameterizedTest(name = "etcd vs {0}")
  @ValueSource(strings = {"etcd", "kvd"})
  @Timeout(120)
  void sessionAnswersLikeEtcd(String candidateKind) throws Exception {
    EtcdProcess.requireEtcd();
    List<Step> script = V2Session.script();
    try (V2Target candidate = Targets.start(candidateKind, candidateKind.equals("etcd") ? "control" : "kvd");
        V2Target reference = EtcdProcess.start("reference")) {
      CompletableFuture<List<Observation>> refRun = CompletableFuture.supplyAsync(() -> run(reference, script));
      CompletableFuture<List<Observation>> candRun = CompletableFuture.supplyAsync(() -> run(candidate, script));
      List<Observation> ref = refRun.join();
      List<Observation> cand = candRun.join();
      String refName = "etcd";
      String candName = candidateKind.equals("etcd") ? "etcd-b" : "kvd";
      transcript(refName + "-vs-" + candName + "." + refName, ref);
      transcript(refName + "-vs-" + candName + "." + candName, cand);

      List<Normalised> refN = V2Normaliser.forSession(ref, reference.clientUrl()).normalise(ref);
      List<Normalised> candN = V2Normaliser.forSession(cand, candidate.clientUrl()).normalise(cand);
      List<String> diffs = SessionDiff.differences(refName, refN, candName, candN);
      Path report = EtcdProcess.logDir().resolve("session-diff-" + refName + "-vs-" + candName + ".txt");
      Files.writeString(report, diffs.isEmpty() ? "no differences in " + ref.size() + " answers\n"
          : String.join("\n\n", diffs) + "\n");
      assertThat(diffs)
          .as("%d of %d answers differ between %s and %s (report: %s):%n%s", diffs.size(), ref.size(), refName,
              candName, report, String.join("\n\n", diffs))
          .isEmpty();
    }
  }

  private static List<Observation> run(V2Target target, List<Step> script) {
    try (SessionRunner runner = new SessionRunner(target)) {
      return runner.run(script);
    }
  }

  /** The raw answers, for a human (or the lead implementing kvd) to read. */
  private static void transcript(String name, List<Observation> session) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (Observation o : session) {
      sb.append("#").append(o.seq()).append(' ').append(o.label()).append("\n> ").append(o.request()).append('\n');
      sb.append("< ").append(o.status());
      for (Map.Entry<String, List<String>> h : o.headers().entrySet()) {
        if (!h.getKey().equals("date")) {
          sb.append("\n< ").append(h.getKey()).append(": ").append(String.join(", ", h.getValue()));
        }
      }
      String body = o.body().length() > 2000 ? o.body().substring(0, 2000) + "...(" + o.body().length() + " chars)"
          : o.body();
      sb.append("\n<\n").append(body);
      if (!body.endsWith("\n")) {
        sb.append("\n(no newline at end of body)\n");
      }
      if (!o.summary().isEmpty()) {
        sb.append("summary: ").append(o.summary()).append('\n');
      }
      for (String p : o.problems()) {
        sb.append("PROBLEM: ").append(p).append('\n');
      }
      sb.append('\n');
    }
    Files.writeString(EtcdProcess.logDir().resolve("session-" + name + ".txt"), sb.toString());
  }

  // ---- the script and the comparison machinery themselves

  @Test
  void scriptIsLargeEnoughAndLabelsAreUnique() {
    List<Step> script = V2Session.script();
    assertThat(V2Session.requestCount(script)).isGreaterThanOrEqualTo(150 + 1000);
    assertThat(script.size()).as("distinct scripted steps").isGreaterThanOrEqualTo(150);
    Set<String> labels = new HashSet<>();
    List<String> dup = new ArrayList<>();
    for (Step s : script) {
      List<String> own = new ArrayList<>(List.of(s.label()));
      if (s instanceof Step.Watch w) {
        w.triggers().forEach(t -> own.add(t.label()));
      }
      own.stream().filter(l -> !labels.add(l)).forEach(dup::add);
    }
    assertThat(dup).as("duplicate labels").isEmpty();
    assertThat(script.get(0)).isEqualTo(V2Session.get("start", "/v2/keys/"));
  }

  @Test
  void scriptCoversEveryReachableErrorCode() {
    Set<String> codes = V2Session.script().stream()
        .flatMap(s -> s instanceof Step.Watch w
            ? java.util.stream.Stream.concat(java.util.stream.Stream.of(s.label()),
                w.triggers().stream().map(Step::label))
            : java.util.stream.Stream.of(s.label()))
        .map(l -> l.replaceAll(".*-(\\d{3})$", "$1"))
        .filter(l -> l.matches("\\d{3}"))
        .collect(Collectors.toSet());
    assertThat(codes).contains("100", "101", "102", "104", "105", "107", "108", "201", "202", "203", "209",
        "210", "211", "212", "401", "301", "400", "404", "405");
  }

  @Test
  void diffToleratesTtlDriftAndNothingElse() {
    V2Normaliser n = new V2Normaliser(10, java.net.URI.create("http://127.0.0.1:1"));
    Observation a = observation("{\"action\":\"get\",\"node\":{\"key\":\"/k\",\"value\":\"v\",\"ttl\":50,"
        + "\"modifiedIndex\":12,\"createdIndex\":11}}\n", "12");
    long drift = SessionDiff.TTL_DRIFT_SECONDS;
    Observation ttlOff1 = observation(a.body().replace("\"ttl\":50", "\"ttl\":" + (50 - drift)), "12");
    Observation ttlOff2 = observation(a.body().replace("\"ttl\":50", "\"ttl\":" + (50 - drift - 1)), "12");
    Observation valueDiffers = observation(a.body().replace("\"v\"", "\"w\""), "12");
    Observation indexDiffers = observation(a.body(), "13");
    Observation fieldOrder = observation("{\"action\":\"get\",\"node\":{\"value\":\"v\",\"key\":\"/k\",\"ttl\":50,"
        + "\"modifiedIndex\":12,\"createdIndex\":11}}\n", "12");
    Observation noNewline = observation(a.body().strip(), "12");
    assertThat(SessionDiff.compare("a", n.normalise(a), "b", n.normalise(ttlOff1))).isEmpty();
    assertThat(SessionDiff.compare("a", n.normalise(a), "b", n.normalise(ttlOff2))).hasSize(1);
    assertThat(SessionDiff.compare("a", n.normalise(a), "b", n.normalise(valueDiffers))).hasSize(1);
    assertThat(SessionDiff.compare("a", n.normalise(a), "b", n.normalise(indexDiffers))).hasSize(1);
    assertThat(SessionDiff.compare("a", n.normalise(a), "b", n.normalise(fieldOrder))).hasSize(1);
    assertThat(SessionDiff.compare("a", n.normalise(a), "b", n.normalise(noNewline))).hasSize(1);
  }

  @Test
  void indexesBecomeOffsetsFromTheSessionBase() {
    V2Normaliser etcd = new V2Normaliser(3, java.net.URI.create("http://127.0.0.1:1"));
    V2Normaliser kvd = new V2Normaliser(0, java.net.URI.create("http://127.0.0.1:2"));
    Observation e = observation("{\"action\":\"create\",\"node\":{\"key\":\"/q/00000000000000000009\",\"value\":\"\","
        + "\"modifiedIndex\":9,\"createdIndex\":9}}\n", "9");
    Observation k = observation("{\"action\":\"create\",\"node\":{\"key\":\"/q/00000000000000000006\",\"value\":\"\","
        + "\"modifiedIndex\":6,\"createdIndex\":6}}\n", "6");
    assertThat(SessionDiff.compare("etcd", etcd.normalise(e), "kvd", kvd.normalise(k))).isEmpty();
    assertThat(etcd.normalise(e).json().get(0).path("node").path("key").asText()).isEqualTo("/q/<seq+6>");
    Observation cleared = observation("{\"errorCode\":401,\"message\":\"The event in requested index is outdated and "
        + "cleared\",\"cause\":\"the requested history has been cleared [1004/5]\",\"index\":1003}\n", "1003");
    assertThat(etcd.normalise(cleared).json().get(0).path("cause").asText())
        .isEqualTo("the requested history has been cleared [<i+1001>/<i+2>]");
  }

  private static Observation observation(String body, String etcdIndex) {
    return new Observation(0, "t", "GET", "/v2/keys/k", null, Instant.now(), 200,
        Map.of("content-type", List.of("application/json"), "x-etcd-index", List.of(etcdIndex)), body, "", List.of());
  }
}
