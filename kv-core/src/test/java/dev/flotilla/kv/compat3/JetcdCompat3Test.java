package dev.flotilla.kv.compat3;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * jetcd (io.etcd:jetcd-core) against kvd and against etcd 3.4.23 at once, the same
 * {@link JetcdSession} on both: put/get/prefix, txn (nested too), errors, a watch from a past
 * revision that goes on live, leases (expiry, keep-alive, revoke, TimeToLive), compaction. The
 * transcripts must be equal, and neither may report a broken guarantee.
 */
class JetcdCompat3Test {

  @Test
  @Timeout(90)
  void jetcdGetsTheSameAnswersFromKvdAsFromEtcd() throws Exception {
    try (V3Server etcd = V3Server.start("etcd", "oracle"); V3Server kvd = V3Server.start("kvd", "kvd")) {
      var a = CompletableFuture.supplyAsync(() -> session(etcd));
      var b = CompletableFuture.supplyAsync(() -> session(kvd));
      List<String> want = a.join();
      List<String> got = b.join();
      Transcripts.save("jetcd", want, got);
      assertThat(want).as("etcd's own transcript breaks a guarantee").noneMatch(l -> l.startsWith("BROKEN"));
      assertThat(Transcripts.differences(want, got))
          .as("jetcd lines where kvd differs from etcd (transcripts in target/compat3-logs/jetcd-*.txt)")
          .isEmpty();
    }
  }

  private static List<String> session(V3Server s) {
    try {
      return new JetcdSession(s).run();
    } catch (Exception e) {
      throw new IllegalStateException("jetcd session against " + s + " failed", e);
    }
  }
}
