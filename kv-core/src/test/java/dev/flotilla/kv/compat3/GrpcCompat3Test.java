package dev.flotilla.kv.compat3;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The v3 gRPC API spoken directly ({@link GrpcSession}) to etcd 3.4.23 and to kvd at once: the
 * transcripts (protobuf text, normalised) must be equal line by line.
 */
class GrpcCompat3Test {

  @Test
  @Timeout(90)
  void rawGrpcAnswersAreEtcds() throws Exception {
    Tools3.etcd();
    try (V3Server etcd = V3Server.start("etcd", "oracle"); V3Server kvd = V3Server.start("kvd", "kvd")) {
      var a = CompletableFuture.supplyAsync(() -> session(etcd));
      var b = CompletableFuture.supplyAsync(() -> session(kvd));
      List<String> want = a.join();
      List<String> got = b.join();
      Transcripts.save("grpc", want, got);
      assertThat(Transcripts.differences(want, got))
          .as("gRPC answers where kvd differs from etcd (transcripts in target/compat3-logs/grpc-*.txt)")
          .isEmpty();
    }
  }

  private static List<String> session(V3Server s) {
    try {
      return new GrpcSession(s).run();
    } catch (Exception e) {
      throw new IllegalStateException("gRPC session against " + s + " failed", e);
    }
  }
}
