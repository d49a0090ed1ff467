package dev.flotilla.kv.compat3;

import static org.assertj.core.api.Assertions.assertThat;

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
    AllowList3 allow = candidate.equals("kvd") ? AllowList3.load(ALLOW) : AllowList3.none();
    var r = EtcdctlSideBySide.run("v3", EtcdctlScript.load(SCRIPT), candidate, "", allow);
    if (!r.allowed().isEmpty()) {
      System.out.println("etcdctl v3, etcd vs " + candidate + ": allowed differences:\n  " + String.join("\n  ", r.allowed()));
    }
    assertThat(r.differences())
        .as("etcdctl v3 steps where %s differs from etcd (%d of %d; transcript %s)", r.candidateName(),
            r.differences().size(), r.want().size(), r.transcript())
        .isEmpty();
  }
}
