package dev.flotilla.kv.v3;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.flotilla.kv.mvcc.ReadView;
import dev.flotilla.kv.server.ApplyOutcome;
import dev.flotilla.kv.server.MachineOnDisk;
import dev.flotilla.proto.etcd.etcdserverpb.CompactionRequest;
import dev.flotilla.proto.etcd.etcdserverpb.Compare;
import dev.flotilla.proto.etcd.etcdserverpb.DeleteRangeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.DeleteRangeResponse;
import dev.flotilla.proto.etcd.etcdserverpb.PutRequest;
import dev.flotilla.proto.etcd.etcdserverpb.PutResponse;
import dev.flotilla.proto.etcd.etcdserverpb.RangeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.RangeResponse;
import dev.flotilla.proto.etcd.etcdserverpb.RequestOp;
import dev.flotilla.proto.etcd.etcdserverpb.TxnRequest;
import dev.flotilla.proto.etcd.etcdserverpb.TxnResponse;
import dev.flotilla.proto.etcd.mvccpb.KeyValue;
import dev.flotilla.proto.store.StoreCommand;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** etcd v3 KV semantics applied through the state machine on a real RocksDB store. */
class V3KvTest {
  @RegisterExtension final MachineOnDisk disk = new MachineOnDisk();

  private static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private ApplyOutcome apply(StoreCommand c) {
    return disk.apply(c);
  }

  private PutResponse put(String k, String v) {
    var o = apply(StoreCommand.newBuilder().setV3Put(PutRequest.newBuilder().setKey(b(k)).setValue(b(v)).setPrevKv(true)).build());
    return (PutResponse) ((ApplyOutcome.V3Done) o).response();
  }

  private RangeResponse range(RangeRequest r) throws V3Error {
    try (ReadView v = disk.store().snapshot()) {
      return V3Kv.range(v, r, disk.store().compactRevision());
    }
  }

  private static List<String> keys(RangeResponse r) {
    return r.getKvsList().stream().map(kv -> kv.getKey().toStringUtf8()).toList();
  }

  @Test
  void putsMakeRevisionsVersionsAndPrevKvs() throws Exception {
    assertThat(put("a", "1").getHeader().getRevision()).isEqualTo(2);
    PutResponse second = put("a", "2");
    assertThat(second.getHeader().getRevision()).isEqualTo(3);
    assertThat(second.getPrevKv().getValue()).isEqualTo(b("1"));
    KeyValue kv = range(RangeRequest.newBuilder().setKey(b("a")).build()).getKvs(0);
    assertThat(kv.getCreateRevision()).isEqualTo(2);
    assertThat(kv.getModRevision()).isEqualTo(3);
    assertThat(kv.getVersion()).isEqualTo(2);
    assertThat(kv.getValue()).isEqualTo(b("2"));
  }

  @Test
  void rangesHonourEndsLimitsSortsAndPastRevisions() throws Exception {
    for (String k : List.of("b", "a", "c", "d")) {
      put(k, "v" + k);
    }
    put("a", "changed"); // rev 6
    assertThat(keys(range(RangeRequest.newBuilder().setKey(b("a")).setRangeEnd(b("c")).build()))).containsExactly("a", "b");
    assertThat(keys(range(RangeRequest.newBuilder().setKey(b("b")).setRangeEnd(b("\0")).build()))).containsExactly("b", "c", "d");
    RangeResponse limited = range(RangeRequest.newBuilder().setKey(b("\0")).setRangeEnd(b("\0")).setLimit(2).build());
    assertThat(keys(limited)).containsExactly("a", "b");
    assertThat(limited.getMore()).isTrue();
    assertThat(limited.getCount()).isEqualTo(4);
    assertThat(keys(range(RangeRequest.newBuilder().setKey(b("a")).setRangeEnd(b("z"))
        .setSortOrder(RangeRequest.SortOrder.DESCEND).setSortTarget(RangeRequest.SortTarget.MOD).build())))
        .containsExactly("a", "d", "c", "b");
    RangeResponse past = range(RangeRequest.newBuilder().setKey(b("a")).setRevision(2).build());
    assertThat(past.getCount()).isZero(); // "a" was created at revision 3
    assertThat(range(RangeRequest.newBuilder().setKey(b("a")).setRevision(5).build()).getKvs(0).getValue()).isEqualTo(b("va"));
    assertThat(range(RangeRequest.newBuilder().setKey(b("a")).setRevision(5).build()).getHeader().getRevision()).isEqualTo(6);
    var counted = range(RangeRequest.newBuilder().setKey(b("a")).setRangeEnd(b("z")).setCountOnly(true).build());
    assertThat(counted.getKvsCount()).isZero();
    assertThat(counted.getCount()).isEqualTo(4);
    try {
      range(RangeRequest.newBuilder().setKey(b("a")).setRevision(99).build());
      throw new AssertionError("future revision accepted");
    } catch (V3Error e) {
      assertThat(e.getMessage()).isEqualTo("etcdserver: mvcc: required revision is a future revision");
    }
  }

  @Test
  void deleteRangeAndTxnShareOneRevisionPerCommand() throws Exception {
    put("k1", "1");
    put("k2", "2");
    var del = (DeleteRangeResponse) ((ApplyOutcome.V3Done) apply(StoreCommand.newBuilder().setV3DeleteRange(
        DeleteRangeRequest.newBuilder().setKey(b("k")).setRangeEnd(b("l")).setPrevKv(true)).build())).response();
    assertThat(del.getDeleted()).isEqualTo(2);
    assertThat(del.getHeader().getRevision()).isEqualTo(4);
    var nothing = (DeleteRangeResponse) ((ApplyOutcome.V3Done) apply(StoreCommand.newBuilder().setV3DeleteRange(
        DeleteRangeRequest.newBuilder().setKey(b("k1"))).build())).response();
    assertThat(nothing.getDeleted()).isZero();
    assertThat(nothing.getHeader().getRevision()).isEqualTo(4);

    TxnRequest txn = TxnRequest.newBuilder()
        .addCompare(Compare.newBuilder().setKey(b("lock")).setTarget(Compare.CompareTarget.CREATE)
            .setResult(Compare.CompareResult.EQUAL).setCreateRevision(0))
        .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b("lock")).setValue(b("me"))))
        .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b("owner")).setValue(b("me"))))
        .addSuccess(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(b("lock"))))
        .addFailure(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(b("lock"))))
        .build();
    var first = (TxnResponse) ((ApplyOutcome.V3Done) apply(StoreCommand.newBuilder().setV3Txn(txn).build())).response();
    assertThat(first.getSucceeded()).isTrue();
    assertThat(first.getHeader().getRevision()).isEqualTo(5);
    assertThat(first.getResponses(2).getResponseRange().getKvs(0).getValue()).isEqualTo(b("me"));
    var second = (TxnResponse) ((ApplyOutcome.V3Done) apply(StoreCommand.newBuilder().setV3Txn(txn).build())).response();
    assertThat(second.getSucceeded()).isFalse();
    assertThat(second.getHeader().getRevision()).isEqualTo(5);
    assertThat(second.getResponses(0).getResponseRange().getKvs(0).getModRevision()).isEqualTo(5);
  }

  @Test
  void aFailedCommandInAGroupIsRolledBackAloneAndKeepsItsIndex() throws Exception {
    StoreCommand ok1 = StoreCommand.newBuilder().setV3Put(PutRequest.newBuilder().setKey(b("g1")).setValue(b("1"))).build();
    // a txn whose first put succeeds and whose second put names a lease that does not exist
    StoreCommand bad = StoreCommand.newBuilder().setV3Txn(TxnRequest.newBuilder()
        .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b("half")).setValue(b("x"))))
        .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b("half2")).setLease(42)))).build();
    StoreCommand ok2 = StoreCommand.newBuilder().setV3Put(PutRequest.newBuilder().setKey(b("g2")).setValue(b("2"))).build();
    var outcomes = disk.applyBatch(ok1, bad, ok2); // indexes 1, 2, 3
    assertThat(outcomes.get(0)).isInstanceOf(ApplyOutcome.V3Done.class);
    assertThat(((ApplyOutcome.V3Failed) outcomes.get(1)).error().getMessage()).isEqualTo("etcdserver: requested lease not found");
    assertThat(((PutResponse) ((ApplyOutcome.V3Done) outcomes.get(2)).response()).getHeader().getRevision()).isEqualTo(3);
    assertThat(disk.store().appliedIndex()).isEqualTo(3);
    assertThat(disk.store().revision()).isEqualTo(3);
    assertThat(range(RangeRequest.newBuilder().setKey(b("half")).build()).getCount()).isZero();
    assertThat(keys(range(RangeRequest.newBuilder().setKey(b("g")).setRangeEnd(b("h")).build()))).containsExactly("g1", "g2");
  }

  @Test
  void commandsInAGroupReadWhatTheEarlierOnesLeft() throws Exception {
    // one group: each command reads the key as the ones before it left it (written, rolled back,
    // deleted), not as an earlier read in the group saw it
    StoreCommand put1 = StoreCommand.newBuilder().setV3Put(PutRequest.newBuilder().setKey(b("c")).setValue(b("1"))).build();
    StoreCommand rolledBack = StoreCommand.newBuilder().setV3Txn(TxnRequest.newBuilder()
        .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b("c")).setValue(b("2"))))
        .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b("d")).setLease(42)))).build();
    StoreCommand ifOne = StoreCommand.newBuilder().setV3Txn(TxnRequest.newBuilder()
        .addCompare(Compare.newBuilder().setKey(b("c")).setTarget(Compare.CompareTarget.VALUE)
            .setResult(Compare.CompareResult.EQUAL).setValue(b("1")))
        .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b("c")).setValue(b("3"))
            .setPrevKv(true)))).build();
    StoreCommand delete = StoreCommand.newBuilder().setV3DeleteRange(DeleteRangeRequest.newBuilder().setKey(b("c"))).build();
    StoreCommand ifAbsent = StoreCommand.newBuilder().setV3Txn(TxnRequest.newBuilder()
        .addCompare(Compare.newBuilder().setKey(b("c")).setTarget(Compare.CompareTarget.CREATE)
            .setResult(Compare.CompareResult.EQUAL).setCreateRevision(0))
        .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b("c")).setValue(b("4"))
            .setPrevKv(true)))).build();
    var outcomes = disk.applyBatch(put1, rolledBack, ifOne, delete, ifAbsent);
    assertThat(outcomes.get(1)).isInstanceOf(ApplyOutcome.V3Failed.class);
    var third = (TxnResponse) ((ApplyOutcome.V3Done) outcomes.get(2)).response();
    assertThat(third.getSucceeded()).isTrue();
    assertThat(third.getResponses(0).getResponsePut().getPrevKv().getValue()).isEqualTo(b("1"));
    var fifth = (TxnResponse) ((ApplyOutcome.V3Done) outcomes.get(4)).response();
    assertThat(fifth.getSucceeded()).isTrue();
    assertThat(fifth.getResponses(0).getResponsePut().hasPrevKv()).isFalse();
    KeyValue kv = range(RangeRequest.newBuilder().setKey(b("c")).build()).getKvs(0);
    assertThat(kv.getValue()).isEqualTo(b("4"));
    assertThat(kv.getVersion()).isEqualTo(1);
    assertThat(kv.getCreateRevision()).isEqualTo(kv.getModRevision()).isEqualTo(5);
  }

  @Test
  void compactionRemovesOldVersionsAndRefusesReadsBelowIt() throws Exception {
    put("x", "1");
    put("x", "2");
    put("y", "1");
    apply(StoreCommand.newBuilder().setV3DeleteRange(DeleteRangeRequest.newBuilder().setKey(b("y"))).build());
    put("x", "3"); // rev 6
    var done = apply(StoreCommand.newBuilder().setV3Compaction(CompactionRequest.newBuilder().setRevision(5)).build());
    assertThat(done).isInstanceOf(ApplyOutcome.V3Done.class);
    try {
      range(RangeRequest.newBuilder().setKey(b("x")).setRevision(4).build());
      throw new AssertionError("compacted revision readable");
    } catch (V3Error e) {
      assertThat(e.getMessage()).isEqualTo("etcdserver: mvcc: required revision has been compacted");
    }
    assertThat(range(RangeRequest.newBuilder().setKey(b("x")).setRevision(5).build()).getKvs(0).getValue()).isEqualTo(b("2"));
    assertThat(range(RangeRequest.newBuilder().setKey(b("y")).setRevision(5).build()).getCount()).isZero();
    var again = apply(StoreCommand.newBuilder().setV3Compaction(CompactionRequest.newBuilder().setRevision(5)).build());
    assertThat(((ApplyOutcome.V3Failed) again).error().getMessage()).contains("compacted");
  }
}
