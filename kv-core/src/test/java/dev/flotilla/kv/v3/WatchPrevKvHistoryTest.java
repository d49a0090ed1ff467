package dev.flotilla.kv.v3;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.flotilla.kv.server.MachineOnDisk;
import dev.flotilla.proto.etcd.etcdserverpb.CompactionRequest;
import dev.flotilla.proto.etcd.etcdserverpb.DeleteRangeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.PutRequest;
import dev.flotilla.proto.etcd.etcdserverpb.RequestOp;
import dev.flotilla.proto.etcd.etcdserverpb.TxnRequest;
import dev.flotilla.proto.etcd.mvccpb.Event;
import dev.flotilla.proto.store.StoreCommand;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The history keeps no copy of a change's previous version (it is read from the versions when a
 * watcher asks for prev_kv): a watcher catching up from the history must get the same events,
 * prev_kv and revisions included, as one that heard them live, for puts and for a large
 * DeleteRange, and lose prev_kv only where compaction took it, as etcd does.
 */
class WatchPrevKvHistoryTest {
  @RegisterExtension final MachineOnDisk disk = new MachineOnDisk();

  private static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private void apply(StoreCommand c) {
    disk.apply(c);
  }

  private void put(String k, String v) {
    apply(StoreCommand.newBuilder().setV3Put(PutRequest.newBuilder().setKey(b(k)).setValue(b(v))).build());
  }

  private EventCollector watch(String from, String to, long startRev, boolean prevKv) {
    EventCollector c = new EventCollector();
    disk.machine().v3Watchers().watch(b(from), b(to), startRev, false, false, prevKv, c, () -> { });
    return c;
  }

  @Test
  void catchUpFromHistoryGivesTheLiveEventsPrevKvsIncluded() throws Exception {
    int keys = 300;
    EventCollector live = watch("k", "l", 0, true);
    EventCollector livePlain = watch("k", "l", 0, false);
    long start = disk.store().revision() + 1;
    for (int i = 0; i < keys; i++) {
      put(String.format("k%04d", i), "v1-" + i);
    }
    put("k0007", "v2"); // an overwrite: its put carries prev_kv
    put("other", "x"); // outside the watched range
    // a txn that puts and deletes other keys in one revision
    apply(StoreCommand.newBuilder().setV3Txn(TxnRequest.newBuilder()
        .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b("k0001")).setValue(b("t"))))
        .addSuccess(RequestOp.newBuilder().setRequestDeleteRange(DeleteRangeRequest.newBuilder().setKey(b("k0002"))))).build());
    // the large DeleteRange: one revision, a delete per key, each with its previous version
    apply(StoreCommand.newBuilder().setV3DeleteRange(DeleteRangeRequest.newBuilder().setKey(b("k")).setRangeEnd(b("l"))).build());
    int total = keys + 1 + 2 + (keys - 1);
    List<Event> heard = live.await(total);
    List<Event> heardPlain = livePlain.await(total);

    List<Event> caughtUp = watch("k", "l", start, true).await(total);
    List<Event> caughtUpPlain = watch("k", "l", start, false).await(total);
    assertThat(caughtUp).isEqualTo(heard);
    assertThat(caughtUpPlain).isEqualTo(heardPlain);

    Event overwrite = heard.get(keys);
    assertThat(overwrite.getPrevKv().getValue()).isEqualTo(b("v1-7"));
    Event txnDelete = heard.get(keys + 2);
    assertThat(txnDelete.getType()).isEqualTo(Event.EventType.DELETE);
    assertThat(txnDelete.getPrevKv().getKey()).isEqualTo(b("k0002"));
    List<Event> deletes = heard.subList(keys + 3, total);
    long deleteRev = disk.store().revision();
    assertThat(deletes).allSatisfy(e -> {
      assertThat(e.getType()).isEqualTo(Event.EventType.DELETE);
      assertThat(e.getKv().getModRevision()).isEqualTo(deleteRev);
      assertThat(e.hasPrevKv()).isTrue();
      assertThat(e.getPrevKv().getKey()).isEqualTo(e.getKv().getKey());
    });
    assertThat(deletes.get(0).getPrevKv().getValue()).isEqualTo(b("v1-0"));
    assertThat(deletes.get(1).getPrevKv().getValue()).isEqualTo(b("t")); // the txn's put, same revision as its delete of k0002
    assertThat(deletes.get(6).getPrevKv().getValue()).isEqualTo(b("v2"));
    assertThat(caughtUpPlain).noneMatch(Event::hasPrevKv);
  }

  @Test
  void aDeleteKeepsPrevKvAfterCompactionUnlessItsPreviousRevisionWasCompacted() throws Exception {
    put("a", "1"); // rev 2
    put("b", "1"); // rev 3
    put("c", "1"); // rev 4
    apply(StoreCommand.newBuilder().setV3DeleteRange(DeleteRangeRequest.newBuilder().setKey(b("a")).setRangeEnd(b("c"))).build()); // rev 5
    put("c", "2"); // rev 6
    apply(StoreCommand.newBuilder().setV3Compaction(CompactionRequest.newBuilder().setRevision(4)).build());
    List<Event> events = watch("a", "d", 4, true).await(4);
    assertThat(events.get(0).hasPrevKv()).isFalse(); // c created at 4
    // the deletes at 5: their previous versions (at 2 and 3) are the newest at the compaction point: kept
    assertThat(events.get(1).getPrevKv().getValue()).isEqualTo(b("1"));
    assertThat(events.get(1).getKv().getModRevision()).isEqualTo(5);
    assertThat(events.get(2).getPrevKv().getKey()).isEqualTo(b("b"));
    assertThat(events.get(3).getPrevKv().getModRevision()).isEqualTo(4);

    apply(StoreCommand.newBuilder().setV3Compaction(CompactionRequest.newBuilder().setRevision(6)).build());
    put("c", "3"); // rev 7: its previous version (6) is at the compaction point
    List<Event> after = watch("c", "d", 6, true).await(2);
    assertThat(after.get(0).hasPrevKv()).isFalse(); // the revision before 6 was compacted: etcd finds nothing there
    assertThat(after.get(1).getPrevKv().getValue()).isEqualTo(b("2"));
  }
}
