package dev.flotilla.kv.mvcc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.flotilla.proto.store.KeyRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Views opened while the store takes no write share one RocksDB snapshot ({@link MvccStore#snapshot()}):
 * each still sees every write made before it was opened and nothing made after, whatever the
 * others sharing its snapshot do, and closing one leaves the others readable.
 */
class SharedReadViewTest {
  @TempDir Path tmp;
  private MvccStore store;
  private long index;

  @BeforeEach
  void open() throws Exception {
    store = MvccStore.open(tmp.resolve("store"));
  }

  @AfterEach
  void close() {
    store.close();
  }

  private static byte[] k(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private void put(String key, String value) {
    try (WriteTxn txn = store.begin()) {
      txn.startCommand(++index);
      long rev = txn.nextRevision();
      txn.put(KeyRecord.newBuilder().setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8(value))
          .setCreateRevision(rev).setModRevision(rev).setVersion(1).build(), txn.get(k(key)));
      txn.endCommand();
      txn.commit();
    }
  }

  private static String value(ReadView view, String key) {
    KeyRecord r = view.get(k(key));
    return r == null ? null : r.getValue().toStringUtf8();
  }

  @Test
  void aViewSeesTheWritesBeforeItAndNoneAfterWhileOthersShareOrLeaveItsSnapshot() {
    put("a", "1");
    ReadView first = store.snapshot();
    ReadView second = store.snapshot(); // no write between: the same snapshot
    assertThat(second.revision()).isEqualTo(first.revision()).isEqualTo(store.revision());
    first.close();
    assertThat(value(second, "a")).as("a view whose snapshot another view released").isEqualTo("1");
    first.close(); // a second close does nothing (it would free the shared snapshot twice)
    put("a", "2");
    try (ReadView third = store.snapshot()) {
      assertThat(value(third, "a")).isEqualTo("2");
      assertThat(third.revision()).isEqualTo(store.revision()).isEqualTo(second.revision() + 1);
      assertThat(value(second, "a")).as("the older view keeps its point in time").isEqualTo("1");
    }
    second.close();
    try (ReadView fourth = store.snapshot()) {
      assertThat(value(fourth, "a")).isEqualTo("2");
    }
  }

  /** Readers on several threads while writes land: each view reads one revision and its own value. */
  @Test
  void viewsOpenedWhileWritesLandAlwaysSeeTheLatestCommitBeforeThem() throws Exception {
    long initial = store.revision(); // a new store's, before any write (etcd's 1)
    ExecutorService readers = Executors.newFixedThreadPool(3);
    try {
      List<Future<?>> running = new ArrayList<>();
      for (int r = 0; r < 3; r++) {
        running.add(readers.submit(() -> {
          for (int i = 0; i < 2_000; i++) {
            long before = store.revision(); // committed before the view is opened: it must see it
            try (ReadView view = store.snapshot()) {
              assertThat(view.revision()).isGreaterThanOrEqualTo(before);
              String v = value(view, "counter");
              assertThat(v == null ? initial : Long.parseLong(v)).isEqualTo(view.revision());
            }
          }
          return null;
        }));
      }
      for (int i = 1; i <= 500; i++) {
        put("counter", Long.toString(store.revision() + 1)); // the value is the revision it is written at
      }
      for (Future<?> f : running) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      readers.shutdownNow();
    }
  }
}
