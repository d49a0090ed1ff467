package dev.flotilla.kv.api.v3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.kv.client.Compare;
import dev.flotilla.kv.client.GetResult;
import dev.flotilla.kv.client.KeyRange;
import dev.flotilla.kv.client.Op;
import dev.flotilla.kv.client.StoreClient;
import dev.flotilla.kv.client.Txn;
import dev.flotilla.kv.client.TxnResult;
import dev.flotilla.kv.embed.EmbeddedKv;
import dev.flotilla.kv.embed.KvConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A txn without puts or deletes is served as etcd serves it: a read (after a ReadIndex), not a log
 * entry that waits behind the writes. Its answers are those of the same txn through the log.
 */
class ReadOnlyTxnTest {
  @TempDir Path dir;

  @Test
  void aReadOnlyTxnIsAReadAndAnswersAsThroughTheLog() throws Exception {
    try (EmbeddedKv kv = EmbeddedKv.start(KvConfig.builder(dir.resolve("data")).name("ro")
        .listenClientUrl("http://127.0.0.1:0").build())) {
      kv.ready().join();
      StoreClient c = kv.storeClient();
      long written = c.put(StoreClient.bytes("ro/a"), StoreClient.bytes("1"), 0).revision();
      c.put(StoreClient.bytes("ro/b"), StoreClient.bytes("2"), 0);
      long committed = committed(kv);

      Txn read = Txn.when(Compare.value(StoreClient.bytes("ro/a"), Compare.Result.EQUAL, StoreClient.bytes("1")))
          .then(Op.get(KeyRange.key(StoreClient.bytes("ro/a"))))
          .orElse(Op.get(KeyRange.prefix(StoreClient.bytes("ro/"))));
      TxnResult taken = c.txn(read);
      Txn other = Txn.when(Compare.value(StoreClient.bytes("ro/a"), Compare.Result.EQUAL, StoreClient.bytes("9")))
          .then(Op.get(KeyRange.key(StoreClient.bytes("ro/a"))))
          .orElse(Op.get(KeyRange.prefix(StoreClient.bytes("ro/"))));
      TxnResult notTaken = c.txn(other);
      assertThat(committed(kv)).as("log entries for two read-only txns").isEqualTo(committed);

      assertThat(taken.succeeded()).isTrue();
      assertThat(taken.revision()).isEqualTo(written + 1);
      assertThat(taken.result(0, GetResult.class).first().orElseThrow().modRevision()).isEqualTo(written);
      assertThat(notTaken.succeeded()).isFalse();
      assertThat(notTaken.result(0, GetResult.class).kvs()).hasSize(2);

      // the same txn with a write in a branch goes through the log, and reads the same
      Txn withWrite = Txn.when(Compare.value(StoreClient.bytes("ro/a"), Compare.Result.EQUAL, StoreClient.bytes("1")))
          .then(Op.get(KeyRange.key(StoreClient.bytes("ro/a"))))
          .orElse(Op.put(StoreClient.bytes("ro/c"), StoreClient.bytes("3")));
      TxnResult logged = c.txn(withWrite);
      assertThat(committed(kv)).isEqualTo(committed + 1);
      assertThat(logged.succeeded()).isTrue();
      assertThat(logged.revision()).isEqualTo(taken.revision());
      assertThat(logged.result(0, GetResult.class).kvs()).isEqualTo(taken.result(0, GetResult.class).kvs());
    }
  }

  private static long committed(EmbeddedKv kv) throws Exception {
    URI metrics = URI.create(kv.clientUrls().get(0) + "/metrics");
    String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(metrics).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    return text.lines().filter(l -> l.startsWith("etcd_server_proposals_committed_total "))
        .map(l -> (long) Double.parseDouble(l.substring(l.indexOf(' ') + 1).trim()))
        .findFirst().orElseThrow();
  }
}
