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
 * etcd v3 auth through real {@code ETCDCTL_API=3 etcdctl}: {@code compat3/etcdctl-auth.script}
 * (user, role and auth commands, then put/get/del/txn/watch as users with and without permission)
 * against etcd 3.4.23 and against a candidate at once; every step's exit code, stdout and stderr
 * must agree after {@link Normaliser3}. "etcd" as candidate is the control.
 */
class AuthCompat3Test {
  static final String SCRIPT = "/compat3/etcdctl-auth.script";

  @ParameterizedTest(name = "etcd vs {0}")
  @ValueSource(strings = {"etcd", "kvd"})
  @Timeout(240)
  void sameAnswersAsEtcd(String candidate) throws Exception {
    Path etcdctl = Tools3.etcdctl();
    EtcdctlScript script = EtcdctlScript.load(SCRIPT);
    try (V3Server oracle = V3Server.start("etcd", "auth-oracle");
        V3Server other = V3Server.start(candidate, candidate.equals("etcd") ? "auth-control" : "auth-kvd")) {
      var a = CompletableFuture.supplyAsync(() -> run(etcdctl, oracle, script));
      var b = CompletableFuture.supplyAsync(() -> run(etcdctl, other, script));
      List<EtcdctlSession3.Outcome> want = a.join();
      List<EtcdctlSession3.Outcome> got = b.join();
      List<String> differences = new ArrayList<>();
      StringBuilder report = new StringBuilder();
      for (int i = 0; i < want.size(); i++) {
        var w = want.get(i);
        var g = got.get(i);
        String step = "line " + w.step().line() + ": " + w.step().text();
        boolean same = w.shown().equals(g.shown());
        report.append(same ? "same " : "DIFF ").append(step).append('\n').append(EtcdctlCompat3Test.indent(w.shown()));
        if (!same) {
          report.append("  >>> ").append(other.name()).append('\n').append(EtcdctlCompat3Test.indent(g.shown()));
          differences.add(step + "\n  etcd:\n" + EtcdctlCompat3Test.indent(w.shown()) + "  " + other.name() + ":\n"
              + EtcdctlCompat3Test.indent(g.shown()));
        }
      }
      Path file = EtcdV3Server.logDir().resolve("etcdctl-auth-etcd-vs-" + candidate + ".txt");
      Files.writeString(file, report);
      assertThat(differences)
          .as("etcdctl auth steps where %s differs from etcd (%d of %d; transcript %s)", other.name(),
              differences.size(), want.size(), file)
          .isEmpty();
      // the script must exercise refusals, not only successes
      assertThat(want).anySatisfy(o -> assertThat(o.stderr()).contains("etcdserver: permission denied"));
      assertThat(want).anySatisfy(o -> assertThat(o.stderr()).contains("etcdserver: user name is empty"));
    }
  }

  private static List<EtcdctlSession3.Outcome> run(Path etcdctl, V3Server s, EtcdctlScript script) {
    try {
      return new EtcdctlSession3(etcdctl, s).run(script);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
