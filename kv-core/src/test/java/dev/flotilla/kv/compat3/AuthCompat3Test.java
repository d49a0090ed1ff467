package dev.flotilla.kv.compat3;

import static org.assertj.core.api.Assertions.assertThat;

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
    var r = EtcdctlSideBySide.run("auth", EtcdctlScript.load(SCRIPT), candidate, "auth-", AllowList3.none());
    assertThat(r.differences())
        .as("etcdctl auth steps where %s differs from etcd (%d of %d; transcript %s)", r.candidateName(),
            r.differences().size(), r.want().size(), r.transcript())
        .isEmpty();
    // the script must exercise refusals, not only successes
    assertThat(r.want()).anySatisfy(o -> assertThat(o.stderr()).contains("etcdserver: permission denied"));
    assertThat(r.want()).anySatisfy(o -> assertThat(o.stderr()).contains("etcdserver: user name is empty"));
  }
}
