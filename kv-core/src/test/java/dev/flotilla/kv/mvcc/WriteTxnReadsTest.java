package dev.flotilla.kv.mvcc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.flotilla.proto.store.ChangeRecord;
import dev.flotilla.proto.store.KeyRecord;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
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
 * What a command reads during apply is what the store plus the group's earlier writes hold, with
 * the group's remembered reads and writes and the store's {@link KvCache} in between: across
 * rolled-back commands, across groups, and after a restore. And the history, whose PUT records
 * point at their version in {@code revs}, reads back whole, old whole records included. And
 * readers' views, which share one RocksDB snapshot while the store takes no write
 * ({@link MvccStore#snapshot()}), each see every commit made before they were opened and none
 * after, whatever the others sharing their snapshot do.
 */
class WriteTxnReadsTest {
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
    return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  private static KeyRecord rec(String key, String value, long rev) {
    return KeyRecord.newBuilder().setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8(value))
        .setCreateRevision(rev).setModRevision(rev).setVersion(1).build();
  }

  /** The store's own record of key, read past every cache. */
  private KeyRecord stored(String key) {
    try (ReadView view = store.snapshot()) {
      return view.get(k(key));
    }
  }

  private void putCommand(WriteTxn txn, String key, String value) {
    txn.startCommand(++index);
    long rev = txn.nextRevision();
    txn.put(rec(key, value, rev), txn.get(k(key)));
    txn.endCommand();
  }

  @Test
  void aClosedGroupIsReusedAndStartsAsANewOne() {
    WriteTxn first;
    put("kept", "0");
    try (WriteTxn txn = store.begin()) {
      first = txn;
      putCommand(txn, "dropped", "1"); // never committed
      txn.startCommand(++index);
      txn.nextRevision(); // and a command left open, with its save point
    }
    long revision = store.revision();
    try (WriteTxn txn = store.begin()) {
      assertThat(txn).isSameAs(first); // its native batch is reused
      assertThat(txn.revision()).isEqualTo(revision);
      assertThat(txn.changes()).isEmpty();
      assertThat(txn.get(k("dropped"))).isNull();
      assertThat(txn.get(k("kept")).getValue().toStringUtf8()).isEqualTo("0");
      putCommand(txn, "next", "2");
      assertThat(txn.changes()).hasSize(1);
      assertThat(txn.changes().get(0).getKv().getModRevision()).isEqualTo(revision + 1);
      txn.commit();
    }
    assertThat(stored("dropped")).isNull();
    assertThat(stored("next").getValue().toStringUtf8()).isEqualTo("2");
    assertThat(store.appliedIndex()).isEqualTo(index);
  }

  @Test
  void groupsOpenAtOnceAreNotShared() {
    WriteTxn a = store.begin();
    WriteTxn b = store.begin();
    assertThat(b).isNotSameAs(a);
    putCommand(a, "a", "1");
    assertThat(b.get(k("a"))).isNull();
    a.close();
    a.close(); // a second close changes nothing
    b.close();
    try (WriteTxn c = store.begin(); WriteTxn d = store.begin()) {
      assertThat(c).isSameAs(a); // the first one closed was kept, the other freed
      assertThat(d).isNotSameAs(a).isNotSameAs(b);
    }
  }

  @Test
  void aV2KeysChangeIsNotListedForV3Watchers() {
    byte[] v2 = k("\u0002/dir/key");
    try (WriteTxn txn = store.begin()) {
      txn.startCommand(++index);
      long rev = txn.nextRevision();
      KeyRecord r = KeyRecord.newBuilder().setKey(ByteString.copyFrom(v2)).setValue(ByteString.copyFromUtf8("v"))
          .setCreateRevision(rev).setModRevision(rev).setVersion(1).build();
      txn.put(r, null);
      txn.delete(r);
      txn.endCommand();
      assertThat(txn.changes()).isEmpty();
      putCommand(txn, "\u0003v3", "x");
      assertThat(txn.changes()).hasSize(1);
      txn.commit();
    }
    assertThat(stored("\u0002/dir/key")).isNull();
    assertThat(stored("\u0003v3").getValue().toStringUtf8()).isEqualTo("x");
  }

  @Test
  void aRolledBackCommandLeavesTheGroupsEarlierWritesVisible() {
    put("a", "0"); // the store's cache now knows a = 0
    try (WriteTxn txn = store.begin()) {
      assertThat(txn.get(k("a")).getValue().toStringUtf8()).isEqualTo("0");
      assertThat(txn.get(k("b"))).isNull(); // remembered as missing
      putCommand(txn, "a", "1");
      txn.startCommand(++index);
      assertThat(txn.get(k("a")).getValue().toStringUtf8()).isEqualTo("1");
      long rev = txn.nextRevision();
      txn.put(rec("a", "2", rev), txn.get(k("a")));
      txn.put(rec("b", "x", rev), null);
      txn.delete(txn.get(k("a")));
      assertThat(txn.get(k("a"))).isNull();
      txn.abortCommand();
      assertThat(txn.get(k("a")).getValue().toStringUtf8()).isEqualTo("1");
      assertThat(txn.get(k("b"))).isNull();
      txn.startCommand(++index);
      txn.nextRevision();
      txn.delete(txn.get(k("a")));
      txn.endCommand();
      txn.commit();
    }
    assertThat(stored("a")).isNull();
    assertThat(stored("b")).isNull();
    try (WriteTxn txn = store.begin()) { // the next group reads what the first left, cached or not
      assertThat(txn.get(k("a"))).isNull();
      assertThat(txn.get(k("b"))).isNull();
      putCommand(txn, "b", "y");
      txn.commit();
    }
    try (WriteTxn txn = store.begin()) {
      assertThat(txn.get(k("b"))).isEqualTo(stored("b"));
      assertThat(txn.get(k("b")).getValue().toStringUtf8()).isEqualTo("y");
    }
  }

  @Test
  void aGroupThatNeverCommitsTeachesTheCacheNothing() {
    put("a", "1");
    try (WriteTxn txn = store.begin()) {
      putCommand(txn, "a", "2"); // closed without commit: as if the member stopped here
    }
    try (WriteTxn txn = store.begin()) {
      assertThat(txn.get(k("a")).getValue().toStringUtf8()).isEqualTo("1");
    }
  }

  @Test
  void aRestoreReplacesWhatTheCacheKnew() throws Exception {
    put("a", "1");
    var dump = new ByteArrayOutputStream();
    try (MvccStore.DumpPoint point = store.dumpPoint(); var out = new DataOutputStream(dump)) {
      point.dump(out);
    }
    try (WriteTxn txn = store.begin()) {
      putCommand(txn, "a", "2");
      putCommand(txn, "c", "3");
      txn.commit();
    }
    store.restore(new DataInputStream(new ByteArrayInputStream(dump.toByteArray())));
    try (WriteTxn txn = store.begin()) {
      assertThat(txn.get(k("a")).getValue().toStringUtf8()).isEqualTo("1");
      assertThat(txn.get(k("c"))).isNull();
    }
  }

  @Test
  void historyRecordsReadBackWholeWhetherTheyPointAtRevsOrNot() throws Exception {
    long first = store.revision() + 1;
    try (WriteTxn txn = store.begin()) {
      putCommand(txn, "a", "1");
      putCommand(txn, "a", "2");
      txn.commit();
    }
    // a record as kvd wrote them before kv_in_revs: the version itself, plus prev_in_revs
    long rev = store.revision() + 1;
    KeyRecord old = rec("a", "3", rev).toBuilder().setCreateRevision(first).setVersion(3).build();
    byte[] version = ChangeRecord.newBuilder().setKv(old).build().toByteArray();
    store.db().put(store.revs, RevKey.encode(k("a"), rev, 0), version);
    store.db().put(store.history, MvccStore.revKey(rev, 0),
        ChangeRecord.newBuilder().setKv(old).setPrevInRevs(true).build().toByteArray());
    List<ChangeRecord> changes = new ArrayList<>();
    try (ReadView view = store.snapshot()) {
      view.changes(first, rev, c -> true, changes::add);
    }
    assertThat(changes).extracting(c -> c.getKv().getValue().toStringUtf8()).containsExactly("1", "2", "3");
    assertThat(changes).extracting(c -> c.getKv().getModRevision()).containsExactly(first, first + 1, rev);
    assertThat(changes).extracting(c -> c.getPrevKv().getValue().toStringUtf8()).containsExactly("", "1", "2");
    assertThat(changes).allSatisfy(c -> {
      assertThat(c.getKvInRevs()).isFalse();
      assertThat(c.getPrevInRevs()).isFalse();
    });
    try (var it = store.db().newIterator(store.history)) { // what the pointers cost: the key, no value
      it.seekToFirst();
      assertThat(ChangeRecord.parseFrom(it.value()).getKv().getValue()).isEmpty();
      assertThat(ChangeRecord.parseFrom(it.value()).getKvInRevs()).isTrue();
    }
  }

  @Test
  void v2KeysKeepNoVersionsNorHistoryAndV3KeysDo() throws Exception {
    String v2 = "\u0002/dir/k";
    String v3 = "\u0003k";
    try (WriteTxn txn = store.begin()) {
      putCommand(txn, v2, "1");
      putCommand(txn, v2, "2");
      putCommand(txn, v3, "3");
      txn.commit();
    }
    assertThat(stored(v2).getValue().toStringUtf8()).isEqualTo("2");
    List<byte[]> revsKeys = new ArrayList<>();
    try (var it = store.db().newIterator(store.revs)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        revsKeys.add(RevKey.userKey(it.key()));
      }
    }
    assertThat(revsKeys).containsExactly(k(v3));
    List<ChangeRecord> changes = new ArrayList<>();
    try (ReadView view = store.snapshot()) {
      view.changes(0, store.revision(), c -> true, changes::add);
    }
    assertThat(changes).extracting(c -> c.getKv().getKey().toStringUtf8()).containsExactly(v3);
    assertThat(changes.get(0).getKv().getValue().toStringUtf8()).isEqualTo("3");
  }

  /** One group of one put, committed. */
  private void put(String key, String value) {
    try (WriteTxn txn = store.begin()) {
      putCommand(txn, key, value);
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

  /** A state stamp is non-zero at rest, and every commit and restore makes the old one invalid. */
  @Test
  void everyCommitAndRestoreEndsTheStateStamp() throws Exception {
    put("a", "1");
    var dump = new ByteArrayOutputStream();
    try (MvccStore.DumpPoint point = store.dumpPoint(); var out = new DataOutputStream(dump)) {
      point.dump(out);
    }
    long first = store.stateStamp();
    assertThat(first).isNotZero();
    assertThat(store.stateStamp()).isEqualTo(first);
    assertThat(store.unchangedSince(first)).isTrue();
    try (WriteTxn txn = store.begin()) {
      putCommand(txn, "a", "2"); // never committed: nothing changed
    }
    assertThat(store.unchangedSince(first)).isTrue();
    put("a", "3");
    long second = store.stateStamp();
    assertThat(store.unchangedSince(first)).isFalse();
    assertThat(second).isNotZero().isNotEqualTo(first);
    store.restore(new DataInputStream(new ByteArrayInputStream(dump.toByteArray())));
    assertThat(store.unchangedSince(second)).isFalse();
    assertThat(store.stateStamp()).isNotZero().isNotIn(first, second);
    assertThat(store.unchangedSince(0)).isFalse();
  }

  /**
   * A reader that gets a stamp, reads from a view and finds the stamp still valid has read the one
   * state the stamp names: however reads and commits interleave, a stamp never vouches for two values.
   */
  @Test
  void aValidatedStampNamesExactlyOneState() throws Exception {
    put("counter", "0");
    ExecutorService readers = Executors.newFixedThreadPool(3);
    var seen = new java.util.concurrent.ConcurrentHashMap<Long, String>();
    try {
      List<Future<Integer>> running = new ArrayList<>();
      for (int r = 0; r < 3; r++) {
        running.add(readers.submit(() -> {
          int validated = 0;
          for (int i = 0; i < 3_000; i++) {
            long stamp = store.stateStamp();
            String v;
            try (ReadView view = store.snapshot()) {
              v = value(view, "counter");
            }
            if (stamp != 0 && store.unchangedSince(stamp)) {
              String before = seen.putIfAbsent(stamp, v);
              assertThat(before == null ? v : before).as("stamp %d", stamp).isEqualTo(v);
              validated++;
            }
          }
          return validated;
        }));
      }
      for (int i = 1; i <= 500; i++) {
        put("counter", Integer.toString(i));
      }
      int validated = 0;
      for (Future<Integer> f : running) {
        validated += f.get(60, TimeUnit.SECONDS);
      }
      assertThat(validated).isPositive();
      assertThat(seen.get(store.stateStamp())).isIn(null, "500");
    } finally {
      readers.shutdownNow();
    }
  }
}
