package dev.flotilla.kv.compat3;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real {@code ETCDCTL_API=3 etcdctl} against etcd 3.4.23 and against a candidate, the same script
 * ({@code compat3/etcdctl-v3.script}) on both at once: each command's exit code, stdout and stderr
 * must agree after {@link Normaliser3}. The candidate "etcd" (a second etcd) is the control that
 * proves the normalisation sound; "kvd" may differ only where {@code compat3/etcdctl-allow.txt}
 * says why. The full transcript goes to {@code target/compat3-logs/}.
 */
class EtcdctlCompat3Test {
  static final String SCRIPT = "/compat3/etcdctl-v3.script";
  static final String ALLOW = "/compat3/etcdctl-allow.txt";

  @ParameterizedTest(name = "etcd vs {0}")
  @ValueSource(strings = {"etcd", "kvd"})
  @Timeout(120)
  void sameAnswersAsEtcd(String candidate) throws Exception {
    Path etcdctl = Tools3.etcdctl();
    EtcdctlScript script = EtcdctlScript.load(SCRIPT);
    AllowList3 allow = candidate.equals("kvd") ? AllowList3.load(ALLOW) : AllowList3.none();
    try (V3Server oracle = V3Server.start("etcd", "oracle");
        V3Server other = V3Server.start(candidate, candidate.equals("etcd") ? "control" : "kvd")) {
      var a = CompletableFuture.supplyAsync(() -> runQuietly(etcdctl, oracle, script));
      var b = CompletableFuture.supplyAsync(() -> runQuietly(etcdctl, other, script));
      List<EtcdctlSession3.Outcome> want = a.join();
      List<EtcdctlSession3.Outcome> got = b.join();
      List<String> differences = new ArrayList<>();
      List<String> allowed = new ArrayList<>();
      StringBuilder report = new StringBuilder();
      for (int i = 0; i < want.size(); i++) {
        var w = want.get(i);
        var g = got.get(i);
        String step = "line " + w.step().line() + ": " + w.step().text();
        boolean same = w.shown().equals(g.shown());
        report.append(same ? "same " : "DIFF ").append(step).append('\n');
        if (w.step().stdin() != null) {
          report.append(indent("<<< stdin\n" + w.step().stdin() + ">>>"));
        }
        report.append(indent(w.shown()));
        if (!same) {
          report.append("  >>> ").append(other.name()).append('\n').append(indent(g.shown()));
          String reason = allow.reason(w.step().text());
          String d = step + "\n  etcd:\n" + indent(w.shown()) + "  " + other.name() + ":\n" + indent(g.shown());
          if (reason == null) {
            differences.add(d);
          } else {
            allowed.add(step + " (allowed: " + reason + ")");
          }
        }
      }
      Path file = EtcdV3Server.logDir().resolve("etcdctl-v3-etcd-vs-" + candidate + ".txt");
      Files.writeString(file, report);
      if (!allowed.isEmpty()) {
        System.out.println("etcdctl v3, etcd vs " + candidate + ": allowed differences:\n  " + String.join("\n  ", allowed));
      }
      assertThat(differences)
          .as("etcdctl v3 steps where %s differs from etcd (%d of %d; transcript %s)", other.name(),
              differences.size(), want.size(), file)
          .isEmpty();
    }
  }

  private static List<EtcdctlSession3.Outcome> runQuietly(Path etcdctl, V3Server s, EtcdctlScript script) {
    try {
      return new EtcdctlSession3(etcdctl, s).run(script);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static String indent(String s) {
    return "    " + s.replace("\n", "\n    ") + "\n";
  }
}
