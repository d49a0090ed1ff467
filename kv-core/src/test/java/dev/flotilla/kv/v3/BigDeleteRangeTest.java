package dev.flotilla.kv.v3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.flotilla.kv.mvcc.ReadView;
import dev.flotilla.kv.server.ApplyOutcome;
import dev.flotilla.kv.server.MachineOnDisk;
import dev.flotilla.proto.etcd.etcdserverpb.CompactionRequest;
import dev.flotilla.proto.etcd.etcdserverpb.Compare;
import dev.flotilla.proto.etcd.etcdserverpb.DeleteRangeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.DeleteRangeResponse;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseGrantRequest;
import dev.flotilla.proto.etcd.etcdserverpb.PutRequest;
import dev.flotilla.proto.etcd.etcdserverpb.RangeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.RangeResponse;
import dev.flotilla.proto.etcd.etcdserverpb.RequestOp;
import dev.flotilla.proto.etcd.etcdserverpb.TxnRequest;
import dev.flotilla.proto.etcd.etcdserverpb.TxnResponse;
import dev.flotilla.proto.etcd.mvccpb.Event;
import dev.flotilla.proto.etcd.mvccpb.KeyValue;
import dev.flotilla.proto.store.StoreCommand;
import dev.flotilla.proto.store.ChangeRecord;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A DeleteRange of many keys writes its deletions without indexing them in the group's batch
 * (from 1,024 keys on), a small one indexes them: both must leave the same store and answers.
 * Each test runs with a small and a big delete, followed in the same group by commands that read
 * the keys, their history at the revision before, put some back, fail and roll back.
 */
class BigDeleteRangeTest {
  @RegisterExtension final MachineOnDisk disk = new MachineOnDisk();
  @RegisterExtension final MachineOnDisk other = new MachineOnDisk();

  private static final long LEASE = 77;

  private static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private static String key(int i) {
    return String.format("k%05d", i);
  }

  private static StoreCommand put(String k, String v) {
    return StoreCommand.newBuilder().setV3Put(PutRequest.newBuilder().setKey(b(k)).setValue(b(v))).build();
  }

  private static StoreCommand deleteAll(boolean prevKv) {
    return StoreCommand.newBuilder().setV3DeleteRange(DeleteRangeRequest.newBuilder()
        .setKey(b("k")).setRangeEnd(b("l")).setPrevKv(prevKv)).build();
  }

  private static RequestOp rangeOp(String from, String to, long rev) {
    return RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder()
        .setKey(b(from)).setRangeEnd(b(to)).setRevision(rev)).build();
  }

  private static StoreCommand txn(RequestOp... ops) {
    return StoreCommand.newBuilder().setV3Txn(TxnRequest.newBuilder().addAllSuccess(List.of(ops))).build();
  }

  /** Puts n keys k00000.. with values "v<i>" (every tenth key on lease {@link #LEASE}) in groups of 100; returns the last revision. */
  private long fill(int n) {
    return fill(disk, n);
  }

  private static long fill(MachineOnDisk disk, int n) {
    disk.apply(StoreCommand.newBuilder().setV3LeaseGrant(LeaseGrantRequest.newBuilder().setID(LEASE).setTTL(600)).build());
    List<StoreCommand> group = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      PutRequest.Builder p = PutRequest.newBuilder().setKey(b(key(i))).setValue(b("v" + i));
      if (i % 10 == 0) {
        p.setLease(LEASE);
      }
      group.add(StoreCommand.newBuilder().setV3Put(p).build());
      if (group.size() == 100 || i == n - 1) {
        assertThat(disk.applyBatch(group.toArray(StoreCommand[]::new))).allMatch(o -> o instanceof ApplyOutcome.V3Done);
        group.clear();
      }
    }
    return disk.store().revision();
  }

  private static <T> T done(ApplyOutcome o, Class<T> type) {
    assertThat(o).isInstanceOf(ApplyOutcome.V3Done.class);
    return type.cast(((ApplyOutcome.V3Done) o).response());
  }

  private RangeResponse read(String from, String to, long rev) throws V3Error {
    try (ReadView v = disk.store().snapshot()) {
      return V3Kv.range(v, RangeRequest.newBuilder().setKey(b(from)).setRangeEnd(b(to)).setRevision(rev).build(),
          disk.store().compactRevision());
    }
  }

  private static List<String> keys(RangeResponse r) {
    return r.getKvsList().stream().map(kv -> kv.getKey().toStringUtf8()).toList();
  }

  @ParameterizedTest
  @ValueSource(ints = {50, 3000})
  void laterCommandsOfTheGroupSeeTheDeletionsAndTheHistoryBeforeIt(int n) throws Exception {
    long before = fill(n);
    long del = before + 1;
    var outcomes = disk.applyBatch(
        deleteAll(true),
        // reads after the delete: nothing now, everything at the revision before (revs through the batch)
        txn(rangeOp("k", "l", 0), rangeOp("k", "l", before), rangeOp(key(7), "", 0)),
        // a txn deciding on a deleted key's version, then putting two keys back
        StoreCommand.newBuilder().setV3Txn(TxnRequest.newBuilder()
            .addCompare(Compare.newBuilder().setKey(b(key(3))).setTarget(Compare.CompareTarget.VERSION)
                .setResult(Compare.CompareResult.EQUAL).setVersion(0))
            .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b(key(7))).setValue(b("again")).setPrevKv(true)))
            .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b(key(8))).setValue(b("again"))))).build(),
        txn(rangeOp("k", "l", 0), rangeOp("k", "l", del), rangeOp("k", "l", before)),
        // and one of them deleted once more
        StoreCommand.newBuilder().setV3DeleteRange(DeleteRangeRequest.newBuilder().setKey(b(key(8))).setPrevKv(true)).build());

    DeleteRangeResponse d = done(outcomes.get(0), DeleteRangeResponse.class);
    assertThat(d.getDeleted()).isEqualTo(n);
    assertThat(d.getHeader().getRevision()).isEqualTo(del);
    assertThat(d.getPrevKvsList()).hasSize(n);
    assertThat(d.getPrevKvs(5).getKey()).isEqualTo(b(key(5)));
    assertThat(d.getPrevKvs(5).getValue()).isEqualTo(b("v5"));
    assertThat(d.getPrevKvs(10).getLease()).isEqualTo(LEASE);

    TxnResponse reads = done(outcomes.get(1), TxnResponse.class);
    assertThat(reads.getResponses(0).getResponseRange().getCount()).isZero();
    RangeResponse old = reads.getResponses(1).getResponseRange();
    assertThat(old.getCount()).isEqualTo(n);
    assertThat(old.getKvs(n - 1).getValue()).isEqualTo(b("v" + (n - 1)));
    assertThat(reads.getResponses(2).getResponseRange().getCount()).isZero();

    TxnResponse putBack = done(outcomes.get(2), TxnResponse.class);
    assertThat(putBack.getSucceeded()).isTrue();
    assertThat(putBack.getResponses(0).getResponsePut().hasPrevKv()).isFalse(); // deleted: no previous version
    long again = del + 1;
    assertThat(putBack.getHeader().getRevision()).isEqualTo(again);

    TxnResponse after = done(outcomes.get(3), TxnResponse.class);
    assertThat(keys(after.getResponses(0).getResponseRange())).containsExactly(key(7), key(8));
    KeyValue back = after.getResponses(0).getResponseRange().getKvs(0);
    assertThat(back.getCreateRevision()).isEqualTo(again);
    assertThat(back.getVersion()).isEqualTo(1);
    assertThat(after.getResponses(1).getResponseRange().getCount()).isZero(); // at the delete's revision
    assertThat(after.getResponses(2).getResponseRange().getCount()).isEqualTo(n);

    DeleteRangeResponse d8 = done(outcomes.get(4), DeleteRangeResponse.class);
    assertThat(d8.getDeleted()).isEqualTo(1);
    assertThat(d8.getPrevKvs(0).getValue()).isEqualTo(b("again"));

    // a later group reads a deleted key as absent (no cache of the apply thread remembers it)
    var later = disk.applyBatch(StoreCommand.newBuilder().setV3Put(PutRequest.newBuilder()
        .setKey(b(key(9))).setValue(b("later")).setPrevKv(true)).build());
    assertThat(done(later.get(0), dev.flotilla.proto.etcd.etcdserverpb.PutResponse.class).hasPrevKv()).isFalse();
    assertThat(read(key(9), "", 0).getKvs(0).getVersion()).isEqualTo(1);

    // committed: the same from a reader, and after a restart
    for (int round = 0; round < 2; round++) {
      assertThat(disk.store().revision()).isEqualTo(again + 2);
      assertThat(keys(read("k", "l", 0))).containsExactly(key(7), key(9));
      assertThat(read("k", "l", before).getCount()).isEqualTo(n);
      assertThat(read("k", "l", del).getCount()).isZero();
      assertThat(keys(read("k", "l", again))).containsExactly(key(7), key(8));
      try (ReadView v = disk.store().snapshot()) {
        assertThat(v.leaseKeys(LEASE)).isEmpty(); // every deleted key left its lease
      }
      disk.reopen();
    }

    // compaction at the delete: the history before it goes, the deletions leave no trace
    disk.apply(StoreCommand.newBuilder().setV3Compaction(CompactionRequest.newBuilder().setRevision(del)).build());
    assertThatThrownBy(() -> read("k", "l", before)).isInstanceOf(V3Error.class);
    assertThat(read("k", "l", del).getCount()).isZero();
    assertThat(keys(read("k", "l", again))).containsExactly(key(7), key(8));
    assertThat(keys(read("k", "l", 0))).containsExactly(key(7), key(9));
  }

  @ParameterizedTest
  @ValueSource(ints = {50, 3000})
  void aFailedCommandAfterOrAroundABigDeleteRollsBackAlone(int n) throws Exception {
    long before = fill(n);
    // a txn that deletes everything, then fails (a put on a lease that does not exist): rolled back
    StoreCommand failing = txn(
        RequestOp.newBuilder().setRequestDeleteRange(DeleteRangeRequest.newBuilder().setKey(b("k")).setRangeEnd(b("l"))).build(),
        RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b("x")).setValue(b("1")).setLease(4242)).build());
    var outcomes = disk.applyBatch(
        failing,
        txn(rangeOp("k", "l", 0)), // sees every key still there
        deleteAll(false),
        put("y", "1"),
        failing, // nothing left to delete: fails on its put all the same
        txn(rangeOp("k", "l", 0), rangeOp("k", "l", before), rangeOp("x", "z", 0)));
    assertThat(outcomes.get(0)).isInstanceOf(ApplyOutcome.V3Failed.class);
    assertThat(done(outcomes.get(1), TxnResponse.class).getResponses(0).getResponseRange().getCount()).isEqualTo(n);
    DeleteRangeResponse d = done(outcomes.get(2), DeleteRangeResponse.class);
    assertThat(d.getDeleted()).isEqualTo(n);
    assertThat(d.getHeader().getRevision()).isEqualTo(before + 1);
    assertThat(d.getPrevKvsList()).isEmpty();
    assertThat(outcomes.get(4)).isInstanceOf(ApplyOutcome.V3Failed.class);
    TxnResponse last = done(outcomes.get(5), TxnResponse.class);
    assertThat(last.getResponses(0).getResponseRange().getCount()).isZero();
    assertThat(last.getResponses(1).getResponseRange().getCount()).isEqualTo(n);
    assertThat(keys(last.getResponses(2).getResponseRange())).containsExactly("y");

    assertThat(disk.store().revision()).isEqualTo(before + 2);
    assertThat(read("k", "l", 0).getCount()).isZero();
    assertThat(read("k", "l", before).getCount()).isEqualTo(n);
    assertThat(keys(read("x", "z", 0))).containsExactly("y");

    // a group whose big delete is rolled back leaves every key as it was
    long now = disk.store().revision();
    fill(n);
    long refilled = disk.store().revision();
    var again = disk.applyBatch(failing, put("z", "1"), txn(rangeOp("k", "l", 0)));
    assertThat(again.get(0)).isInstanceOf(ApplyOutcome.V3Failed.class);
    assertThat(done(again.get(2), TxnResponse.class).getResponses(0).getResponseRange().getCount()).isEqualTo(n);
    assertThat(disk.store().revision()).isEqualTo(refilled + 1);
    RangeResponse kept = read("k", "l", 0);
    assertThat(kept.getCount()).isEqualTo(n);
    assertThat(kept.getKvs(0).getCreateRevision()).isGreaterThan(now);
  }

  @org.junit.jupiter.api.Test
  void aBigDeleteWritesTheRecordsThatSmallDeletesInOneRevisionWrite() throws Exception {
    int n = 3000;
    long before = fill(disk, n);
    assertThat(fill(other, n)).isEqualTo(before);
    done(disk.apply(deleteAll(false)), DeleteRangeResponse.class);
    // the same keys deleted by three DeleteRanges of 1,000 in one txn: one revision, indexed writes
    TxnRequest.Builder three = TxnRequest.newBuilder();
    for (int i = 0; i < n; i += 1000) {
      three.addSuccess(RequestOp.newBuilder().setRequestDeleteRange(DeleteRangeRequest.newBuilder()
          .setKey(b(key(i))).setRangeEnd(b(key(i + 1000)))));
    }
    done(other.apply(StoreCommand.newBuilder().setV3Txn(three).build()), TxnResponse.class);
    assertThat(disk.store().revision()).isEqualTo(before + 1).isEqualTo(other.store().revision());
    try (ReadView a = disk.store().snapshot(); ReadView b = other.store().snapshot()) {
      assertThat(a.hashKv(before + 1)).isEqualTo(b.hashKv(before + 1)); // every version record, byte for byte
      List<ChangeRecord> ca = new ArrayList<>();
      List<ChangeRecord> cb = new ArrayList<>();
      a.changes(before + 1, before + 1, c -> true, ca::add);
      b.changes(before + 1, before + 1, c -> true, cb::add);
      assertThat(ca).hasSize(n).isEqualTo(cb);
      assertThat(ca.get(n - 1).getPrevKv().getValue()).isEqualTo(b("v" + (n - 1)));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {50, 3000})
  void aKeyWrittenOrReadEarlierInTheGroupIsDeletedToo(int n) throws Exception {
    long before = fill(n);
    StoreCommand putPrev = StoreCommand.newBuilder().setV3Put(PutRequest.newBuilder()
        .setKey(b(key(5))).setValue(b("again")).setPrevKv(true)).build();
    var outcomes = disk.applyBatch(put(key(4), "pre"), txn(rangeOp(key(6), "", 0)), deleteAll(false), putPrev,
        StoreCommand.newBuilder().setV3Put(PutRequest.newBuilder().setKey(b(key(4))).setValue(b("again")).setPrevKv(true)).build(),
        StoreCommand.newBuilder().setV3Put(PutRequest.newBuilder().setKey(b(key(6))).setValue(b("again")).setPrevKv(true)).build());
    assertThat(done(outcomes.get(2), DeleteRangeResponse.class).getDeleted()).isEqualTo(n);
    for (int i = 3; i < 6; i++) {
      assertThat(done(outcomes.get(i), dev.flotilla.proto.etcd.etcdserverpb.PutResponse.class).hasPrevKv()).isFalse();
    }
    assertThat(read("k", "l", 0).getKvsList()).extracting(KeyValue::getVersion).containsExactly(1L, 1L, 1L);
    assertThat(disk.store().revision()).isEqualTo(before + 5);
  }

  private EventCollector watch(long startRev, boolean prevKv) {
    EventCollector c = new EventCollector();
    disk.machine().v3Watchers().watch(b("k"), b("l"), startRev, false, false, prevKv, c, () -> { });
    return c;
  }

  @ParameterizedTest
  @ValueSource(ints = {50, 3000})
  void watchersHearOneDeletePerKeyWithItsPreviousVersionLiveAndFromTheHistory(int n) throws Exception {
    long before = fill(n);
    EventCollector live = watch(0, true);
    EventCollector plain = watch(0, false);
    // in one txn: a put of a key, then the delete of every key (the put's version is that key's prev_kv);
    // then, in the same group, a compaction at the revision before (which keeps every prev_kv) and a put
    disk.applyBatch(
        txn(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b(key(2))).setValue(b("t"))).build(),
            RequestOp.newBuilder().setRequestDeleteRange(DeleteRangeRequest.newBuilder().setKey(b("k")).setRangeEnd(b("l"))).build()),
        StoreCommand.newBuilder().setV3Compaction(CompactionRequest.newBuilder().setRevision(before)).build(),
        put(key(1), "back"));
    long del = before + 1;
    List<Event> heard = live.await(n + 2);
    assertThat(plain.await(n + 2)).noneMatch(Event::hasPrevKv);
    assertThat(heard.get(0).getType()).isEqualTo(Event.EventType.PUT);
    assertThat(heard.get(0).getKv().getModRevision()).isEqualTo(del);
    for (int i = 0; i < n; i++) {
      Event e = heard.get(i + 1);
      assertThat(e.getType()).isEqualTo(Event.EventType.DELETE);
      assertThat(e.getKv().getKey()).isEqualTo(b(key(i)));
      assertThat(e.getKv().getModRevision()).isEqualTo(del);
      assertThat(e.getPrevKv().getValue()).isEqualTo(b(i == 2 ? "t" : "v" + i));
      assertThat(e.getPrevKv().getModRevision()).isEqualTo(i == 2 ? del : i + 2); // one revision per put of the fill
      assertThat(e.getPrevKv().getLease()).isEqualTo(i % 10 == 0 ? LEASE : 0);
    }
    Event put = heard.get(n + 1);
    assertThat(put.getType()).isEqualTo(Event.EventType.PUT);
    assertThat(put.getKv().getModRevision()).isEqualTo(del + 1);
    assertThat(put.hasPrevKv()).isFalse();
    // from the history: the same events
    assertThat(watch(del, true).await(n + 2)).isEqualTo(heard);
  }
}
