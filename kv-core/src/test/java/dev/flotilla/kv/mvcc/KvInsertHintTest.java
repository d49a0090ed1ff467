package dev.flotilla.kv.mvcc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.flotilla.proto.store.KeyRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kv}'s memtable inserts go through RocksDB's insert hint (one per 16-byte key prefix), and
 * only {@code kv}'s: the other column families keep the default. Keys rewritten many times, short
 * and long, some sharing their first 16 bytes, read back at every view as they were when it opened.
 */
class KvInsertHintTest {
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

  @Test
  void onlyKvIsOpenedWithTheInsertHint() throws IOException {
    Path options;
    try (Stream<Path> files = Files.list(tmp.resolve("store"))) {
      options = files.filter(p -> p.getFileName().toString().startsWith("OPTIONS-")).sorted()
          .reduce((a, b) -> b).orElseThrow();
    }
    List<String> hints = new ArrayList<>();
    String family = null;
    for (String line : Files.readAllLines(options)) {
      if (line.startsWith("[CFOptions ")) {
        family = line.substring(line.indexOf('"') + 1, line.lastIndexOf('"'));
      } else if (line.trim().startsWith("memtable_insert_with_hint_prefix_extractor=")) {
        hints.add(family + " " + line.trim().substring(line.trim().indexOf('=') + 1));
      }
    }
    assertThat(hints).contains("kv rocksdb.CappedPrefix.16", "revs nullptr", "history nullptr", "v2events nullptr",
        "default nullptr");
  }

  @Test
  void rewrittenKeysReadBackAsEachViewSawThem() {
    List<String> keys = List.of("\u0002/a", "\u0002/b", "\u0002/bench/k1", "\u0002/bench/k10",
        "\u0003/a-long-shared-prefix/one", "\u0003/a-long-shared-prefix/two", "\u0003/a-long-shared-prefix/three");
    List<ReadView> views = new ArrayList<>();
    List<String> seen = new ArrayList<>();
    try {
      for (int round = 0; round < 200; round++) {
        try (WriteTxn txn = store.begin()) {
          for (String key : keys) {
            txn.startCommand(++index);
            long rev = txn.nextRevision();
            KeyRecord prev = txn.get(bytes(key));
            txn.put(KeyRecord.newBuilder().setKey(ByteString.copyFrom(bytes(key)))
                .setValue(ByteString.copyFromUtf8(key + "@" + round)).setCreateRevision(rev).setModRevision(rev)
                .setVersion(prev == null ? 1 : prev.getVersion() + 1).build(), prev);
            txn.endCommand();
          }
          txn.commit();
        }
        if (round % 50 == 0) {
          views.add(store.snapshot());
          seen.add("@" + round);
        }
      }
      for (int v = 0; v < views.size(); v++) {
        for (String key : keys) {
          KeyRecord r = views.get(v).get(bytes(key));
          assertThat(r.getValue().toStringUtf8()).isEqualTo(key + seen.get(v));
        }
      }
      try (ReadView now = store.snapshot()) {
        for (String key : keys) {
          assertThat(now.get(bytes(key)).getValue().toStringUtf8()).isEqualTo(key + "@199");
          assertThat(now.get(bytes(key)).getVersion()).isEqualTo(200);
        }
      }
    } finally {
      views.forEach(ReadView::close);
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
  }
}
