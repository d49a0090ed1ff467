package dev.flotilla.proto.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import dev.flotilla.proto.etcd.authpb.Permission;
import dev.flotilla.proto.etcd.etcdserverpb.AuthRoleGrantPermissionRequest;
import dev.flotilla.proto.etcd.etcdserverpb.Compare;
import dev.flotilla.proto.etcd.etcdserverpb.DeleteRangeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.PutRequest;
import dev.flotilla.proto.etcd.etcdserverpb.RangeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.RequestOp;
import dev.flotilla.proto.etcd.etcdserverpb.ResponseHeader;
import dev.flotilla.proto.etcd.etcdserverpb.TxnRequest;
import dev.flotilla.proto.etcd.etcdserverpb.WatchCreateRequest;
import dev.flotilla.proto.etcd.etcdserverpb.WatchRequest;
import dev.flotilla.proto.etcd.etcdserverpb.WatchResponse;
import dev.flotilla.proto.etcd.mvccpb.Event;
import dev.flotilla.proto.etcd.mvccpb.KeyValue;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Bytes written by our classes, read by jetcd's (an independent build of etcd's schema) and
 * written back: every field jetcd knows must read as we wrote it, and fields jetcd's copy lacks
 * (3.3/3.4 additions, see EtcdSchemaCompatibilityTest.JETCD_GAPS) must survive as unknown fields,
 * so that the bytes come back to an equal message.
 */
class EtcdWireRoundTripTest {

  @Test
  void putWithLeaseReadsTheSameInJetcdAndEncodesToTheSameBytes() throws Exception {
    PutRequest ours = PutRequest.newBuilder()
        .setKey(bytes("/fleet/units/web.service"))
        .setValue(bytes("{\"state\":\"launched\"}"))
        .setLease(0x694d7a1b2c3d4e5fL)
        .setPrevKv(true)
        .setIgnoreLease(true)
        .build();

    var theirs = reparse(ours, io.etcd.jetcd.api.PutRequest.parser());

    assertThat(theirs.getKey().toStringUtf8()).isEqualTo("/fleet/units/web.service");
    assertThat(theirs.getValue().toStringUtf8()).isEqualTo("{\"state\":\"launched\"}");
    assertThat(theirs.getLease()).isEqualTo(0x694d7a1b2c3d4e5fL);
    assertThat(theirs.getPrevKv()).isTrue();
    assertThat(theirs.getIgnoreValue()).isFalse();
    assertThat(theirs.getIgnoreLease()).isTrue();
    assertThat(theirs.getUnknownFields().asMap()).isEmpty();
    assertThat(theirs.toByteString()).isEqualTo(ours.toByteString());
    assertThat(reparse(theirs, PutRequest.parser())).isEqualTo(ours);
  }

  @Test
  void txnWithNestedComparesAndANestedTxnSurvivesJetcd() throws Exception {
    TxnRequest inner = TxnRequest.newBuilder()
        .addCompare(Compare.newBuilder().setKey(bytes("/lock/a"))
            .setTarget(Compare.CompareTarget.CREATE).setResult(Compare.CompareResult.EQUAL).setCreateRevision(0))
        .addSuccess(RequestOp.newBuilder().setRequestDeleteRange(
            DeleteRangeRequest.newBuilder().setKey(bytes("/tmp/")).setRangeEnd(bytes("/tmp0")).setPrevKv(true)))
        .build();
    TxnRequest ours = TxnRequest.newBuilder()
        .addCompare(Compare.newBuilder().setKey(bytes("/cfg")).setTarget(Compare.CompareTarget.VALUE)
            .setResult(Compare.CompareResult.EQUAL).setValue(bytes("v1")))
        .addCompare(Compare.newBuilder().setKey(bytes("/jobs/")).setRangeEnd(bytes("/jobs0"))
            .setTarget(Compare.CompareTarget.MOD).setResult(Compare.CompareResult.LESS).setModRevision(42))
        .addCompare(Compare.newBuilder().setKey(bytes("/cfg")).setTarget(Compare.CompareTarget.VERSION)
            .setResult(Compare.CompareResult.NOT_EQUAL).setVersion(3))
        // a lease compare (etcd 3.3+), which jetcd's copy cannot express
        .addCompare(Compare.newBuilder().setKey(bytes("/leader")).setTarget(Compare.CompareTarget.LEASE)
            .setResult(Compare.CompareResult.GREATER).setLease(7))
        .addSuccess(RequestOp.newBuilder().setRequestPut(
            PutRequest.newBuilder().setKey(bytes("/cfg")).setValue(bytes("v2")).setLease(9)))
        .addSuccess(RequestOp.newBuilder().setRequestTxn(inner))
        .addFailure(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder()
            .setKey(bytes("/cfg")).setLimit(5).setSortOrder(RangeRequest.SortOrder.DESCEND)
            .setSortTarget(RangeRequest.SortTarget.MOD).setMinModRevision(10).setMaxCreateRevision(99)))
        .build();

    var theirs = reparse(ours, io.etcd.jetcd.api.TxnRequest.parser());

    assertThat(theirs.getCompareCount()).isEqualTo(4);
    var value = theirs.getCompare(0);
    assertThat(value.getTarget()).isEqualTo(io.etcd.jetcd.api.Compare.CompareTarget.VALUE);
    assertThat(value.getResult()).isEqualTo(io.etcd.jetcd.api.Compare.CompareResult.EQUAL);
    assertThat(value.getValue().toStringUtf8()).isEqualTo("v1");
    var mod = theirs.getCompare(1);
    assertThat(mod.getTarget()).isEqualTo(io.etcd.jetcd.api.Compare.CompareTarget.MOD);
    assertThat(mod.getResult()).isEqualTo(io.etcd.jetcd.api.Compare.CompareResult.LESS);
    assertThat(mod.getModRevision()).isEqualTo(42);
    assertThat(mod.getRangeEnd().toStringUtf8()).isEqualTo("/jobs0");
    var version = theirs.getCompare(2);
    assertThat(version.getResult()).isEqualTo(io.etcd.jetcd.api.Compare.CompareResult.NOT_EQUAL);
    assertThat(version.getTargetUnionCase())
        .isEqualTo(io.etcd.jetcd.api.Compare.TargetUnionCase.VERSION);
    assertThat(version.getVersion()).isEqualTo(3);
    var lease = theirs.getCompare(3);
    assertThat(lease.getTargetValue()).as("LEASE as an open proto3 enum value").isEqualTo(4);
    assertThat(lease.getUnknownFields().getField(8).getVarintList()).as("Compare.lease = 8").containsExactly(7L);

    var put = theirs.getSuccess(0).getRequestPut();
    assertThat(put.getKey().toStringUtf8()).isEqualTo("/cfg");
    assertThat(put.getLease()).isEqualTo(9);
    var nested = theirs.getSuccess(1).getRequestTxn();
    assertThat(nested.getCompare(0).getTarget()).isEqualTo(io.etcd.jetcd.api.Compare.CompareTarget.CREATE);
    assertThat(nested.getCompare(0).getTargetUnionCase())
        .as("create_revision = 0 is still set: it is in a oneof")
        .isEqualTo(io.etcd.jetcd.api.Compare.TargetUnionCase.CREATE_REVISION);
    assertThat(nested.getSuccess(0).getRequestDeleteRange().getRangeEnd().toStringUtf8()).isEqualTo("/tmp0");
    assertThat(nested.getSuccess(0).getRequestDeleteRange().getPrevKv()).isTrue();
    var range = theirs.getFailure(0).getRequestRange();
    assertThat(range.getLimit()).isEqualTo(5);
    assertThat(range.getSortOrder()).isEqualTo(io.etcd.jetcd.api.RangeRequest.SortOrder.DESCEND);
    assertThat(range.getSortTarget()).isEqualTo(io.etcd.jetcd.api.RangeRequest.SortTarget.MOD);
    assertThat(range.getMinModRevision()).isEqualTo(10);
    assertThat(range.getMaxCreateRevision()).isEqualTo(99);

    assertThat(reparse(theirs, TxnRequest.parser())).isEqualTo(ours);
  }

  @Test
  void watchCreateWithFiltersSurvivesJetcd() throws Exception {
    WatchRequest ours = WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
            .setKey(bytes("/fleet/"))
            .setRangeEnd(bytes("/fleet0"))
            .setStartRevision(1234)
            .setProgressNotify(true)
            .addFilters(WatchCreateRequest.FilterType.NOPUT)
            .addFilters(WatchCreateRequest.FilterType.NODELETE)
            .setPrevKv(true)
            .setWatchId(42)      // 3.4, unknown to jetcd
            .setFragment(true))  // 3.4, unknown to jetcd
        .build();

    var theirs = reparse(ours, io.etcd.jetcd.api.WatchRequest.parser());

    assertThat(theirs.getRequestUnionCase())
        .isEqualTo(io.etcd.jetcd.api.WatchRequest.RequestUnionCase.CREATE_REQUEST);
    var create = theirs.getCreateRequest();
    assertThat(create.getKey().toStringUtf8()).isEqualTo("/fleet/");
    assertThat(create.getRangeEnd().toStringUtf8()).isEqualTo("/fleet0");
    assertThat(create.getStartRevision()).isEqualTo(1234);
    assertThat(create.getProgressNotify()).isTrue();
    assertThat(create.getFiltersList()).containsExactly(
        io.etcd.jetcd.api.WatchCreateRequest.FilterType.NOPUT,
        io.etcd.jetcd.api.WatchCreateRequest.FilterType.NODELETE);
    assertThat(create.getPrevKv()).isTrue();
    assertThat(create.getUnknownFields().getField(7).getVarintList()).as("watch_id = 7").containsExactly(42L);
    assertThat(create.getUnknownFields().getField(8).getVarintList()).as("fragment = 8").containsExactly(1L);
    // unknown fields are written after the known ones, and 7 and 8 are the highest numbers here
    assertThat(theirs.toByteString()).isEqualTo(ours.toByteString());
    assertThat(reparse(theirs, WatchRequest.parser())).isEqualTo(ours);
  }

  @Test
  void watchResponseWithEventsReadsTheSameInJetcd() throws Exception {
    KeyValue before = KeyValue.newBuilder().setKey(bytes("/a")).setValue(bytes("1"))
        .setCreateRevision(5).setModRevision(5).setVersion(1).build();
    WatchResponse ours = WatchResponse.newBuilder()
        .setHeader(ResponseHeader.newBuilder().setClusterId(0xcdf818194e3a8c32L).setMemberId(0x8e9e05c52164694dL)
            .setRevision(7).setRaftTerm(2))
        .setWatchId(3)
        .addEvents(Event.newBuilder().setType(Event.EventType.PUT)
            .setKv(before.toBuilder().setValue(bytes("2")).setModRevision(6).setVersion(2).setLease(11))
            .setPrevKv(before))
        .addEvents(Event.newBuilder().setType(Event.EventType.DELETE)
            .setKv(KeyValue.newBuilder().setKey(bytes("/b")).setModRevision(7)))
        .setFragment(true)
        .build();

    var theirs = reparse(ours, io.etcd.jetcd.api.WatchResponse.parser());

    assertThat(theirs.getHeader().getClusterId()).isEqualTo(0xcdf818194e3a8c32L);
    assertThat(theirs.getHeader().getMemberId()).isEqualTo(0x8e9e05c52164694dL);
    assertThat(theirs.getHeader().getRevision()).isEqualTo(7);
    assertThat(theirs.getWatchId()).isEqualTo(3);
    assertThat(theirs.getEventsList()).extracting(e -> e.getType()).containsExactly(
        io.etcd.jetcd.api.Event.EventType.PUT, io.etcd.jetcd.api.Event.EventType.DELETE);
    var put = theirs.getEvents(0);
    assertThat(List.of(put.getKv().getValue().toStringUtf8(), put.getPrevKv().getValue().toStringUtf8()))
        .containsExactly("2", "1");
    assertThat(List.of(put.getKv().getCreateRevision(), put.getKv().getModRevision(), put.getKv().getVersion(),
        put.getKv().getLease())).containsExactly(5L, 6L, 2L, 11L);
    assertThat(theirs.getEvents(1).getKv().getKey().toStringUtf8()).isEqualTo("/b");
    assertThat(theirs.getUnknownFields().getField(7).getVarintList()).as("fragment = 7").containsExactly(1L);
    assertThat(reparse(theirs, WatchResponse.parser())).isEqualTo(ours);
  }

  @Test
  void rangeBuiltByJetcdReadsTheSameInOurs() throws Exception {
    var theirs = io.etcd.jetcd.api.RangeRequest.newBuilder()
        .setKey(bytes("\0")).setRangeEnd(bytes("\0"))
        .setRevision(77).setSerializable(true).setKeysOnly(true).setCountOnly(true)
        .setMaxModRevision(70).setMinCreateRevision(3)
        .build();

    RangeRequest ours = reparse(theirs, RangeRequest.parser());

    assertThat(ours.getKey()).isEqualTo(bytes("\0"));
    assertThat(ours.getRangeEnd()).isEqualTo(bytes("\0"));
    assertThat(List.of(ours.getRevision(), ours.getMaxModRevision(), ours.getMinCreateRevision()))
        .containsExactly(77L, 70L, 3L);
    assertThat(List.of(ours.getSerializable(), ours.getKeysOnly(), ours.getCountOnly()))
        .containsExactly(true, true, true);
    assertThat(ours.getUnknownFields().asMap()).isEmpty();
    assertThat(ours.toByteString()).isEqualTo(theirs.toByteString());
  }

  @Test
  void permissionGrantReadsTheSameInJetcd() throws Exception {
    AuthRoleGrantPermissionRequest ours = AuthRoleGrantPermissionRequest.newBuilder()
        .setName("fleet-agent")
        .setPerm(Permission.newBuilder().setPermType(Permission.Type.READWRITE)
            .setKey(bytes("/fleet/")).setRangeEnd(bytes("/fleet0")))
        .build();

    var theirs = reparse(ours, io.etcd.jetcd.api.AuthRoleGrantPermissionRequest.parser());

    assertThat(theirs.getName()).isEqualTo("fleet-agent");
    assertThat(theirs.getPerm().getPermType()).isEqualTo(io.etcd.jetcd.api.Permission.Type.READWRITE);
    assertThat(theirs.getPerm().getRangeEnd().toStringUtf8()).isEqualTo("/fleet0");
    assertThat(theirs.toByteString()).isEqualTo(ours.toByteString());
  }

  private static <T extends Message> T reparse(Message from, Parser<T> parser)
      throws InvalidProtocolBufferException {
    return parser.parseFrom(from.toByteString());
  }

  private static ByteString bytes(String s) {
    return ByteString.copyFromUtf8(s);
  }
}
