package dev.flotilla.kv.compat3;

import com.google.protobuf.ByteString;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.TextFormat;
import dev.flotilla.proto.etcd.etcdserverpb.AlarmRequest;
import dev.flotilla.proto.etcd.etcdserverpb.ClusterGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.CompactionRequest;
import dev.flotilla.proto.etcd.etcdserverpb.Compare;
import dev.flotilla.proto.etcd.etcdserverpb.DeleteRangeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.KVGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseGrantRequest;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseKeepAliveRequest;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseKeepAliveResponse;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseLeasesRequest;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseRevokeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseTimeToLiveRequest;
import dev.flotilla.proto.etcd.etcdserverpb.MaintenanceGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.MemberListRequest;
import dev.flotilla.proto.etcd.etcdserverpb.PutRequest;
import dev.flotilla.proto.etcd.etcdserverpb.RangeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.RequestOp;
import dev.flotilla.proto.etcd.etcdserverpb.StatusRequest;
import dev.flotilla.proto.etcd.etcdserverpb.TxnRequest;
import dev.flotilla.proto.etcd.etcdserverpb.WatchCancelRequest;
import dev.flotilla.proto.etcd.etcdserverpb.WatchCreateRequest;
import dev.flotilla.proto.etcd.etcdserverpb.WatchGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.WatchProgressRequest;
import dev.flotilla.proto.etcd.etcdserverpb.WatchRequest;
import dev.flotilla.proto.etcd.etcdserverpb.WatchResponse;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The v3 gRPC API driven directly with the project's own etcdserverpb stubs, for what client
 * libraries hide: watch stream control answers (created, canceled, duplicate ids, progress,
 * filters, compacted starts), LEASE compares, nested txns whose compares see the state before
 * the txn, request checks and their exact errors. Every answer is written down as protobuf text
 * with revisions as offsets from the start ({@code R+3}) and cluster, member, term and raft
 * counters taken out; leases get explicit ids so that both servers show the same ones.
 */
final class GrpcSession {
  private static final Pattern REV = Pattern.compile("\\b((?:create_|mod_|compact_)?revision): (\\d+)");
  private static final Pattern IDS = Pattern.compile(
      "\\b(cluster_id|member_id|raft_term|leader|raft_index|raft_applied_index|raftIndex|raftTerm|raftAppliedIndex|db_size|db_size_in_use|dbSize|dbSizeInUse|ID): (\\d+)");

  private final V3Server server;
  private final List<String> lines = new ArrayList<>();
  private long base;

  GrpcSession(V3Server server) {
    this.server = server;
  }

  static ByteString b(String s) {
    return ByteString.copyFrom(s, StandardCharsets.UTF_8);
  }

  List<String> run() throws Exception {
    ManagedChannel ch = NettyChannelBuilder.forAddress(server.clientUrl().getHost(), server.clientUrl().getPort())
        .usePlaintext().build();
    try {
      var kv = KVGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
      var lease = LeaseGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
      base = kv.range(RangeRequest.newBuilder().setKey(b("probe")).build()).getHeader().getRevision();
      kvChecks(kv);
      leaseChecks(kv, lease, LeaseGrpc.newStub(ch));
      watchChecks(kv, WatchGrpc.newStub(ch));
      var cluster = ClusterGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
      var maintenance = MaintenanceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
      add("member list", () -> cluster.memberList(MemberListRequest.getDefaultInstance())
          .toBuilder().clearMembers().build());
      add("alarm get", () -> maintenance.alarm(AlarmRequest.newBuilder().setAction(AlarmRequest.AlarmAction.GET).build()));
      add("status", () -> maintenance.status(StatusRequest.getDefaultInstance()));
    } finally {
      ch.shutdownNow();
      ch.awaitTermination(5, TimeUnit.SECONDS);
    }
    return lines;
  }

  private void kvChecks(KVGrpc.KVBlockingStub kv) {
    for (String k : List.of("a", "b", "c", "d")) {
      add("put " + k, () -> kv.put(PutRequest.newBuilder().setKey(b(k)).setValue(b(k + "1")).build()));
    }
    add("range from-key b", () -> kv.range(RangeRequest.newBuilder().setKey(b("b")).setRangeEnd(b("\0")).build()));
    add("range all", () -> kv.range(RangeRequest.newBuilder().setKey(b("\0")).setRangeEnd(b("\0")).setCountOnly(true).build()));
    add("range limit sort version desc", () -> kv.range(RangeRequest.newBuilder().setKey(b("a")).setRangeEnd(b("z"))
        .setLimit(2).setSortTarget(RangeRequest.SortTarget.VERSION).setSortOrder(RangeRequest.SortOrder.DESCEND).build()));
    add("range sort create, no order", () -> kv.range(RangeRequest.newBuilder().setKey(b("a")).setRangeEnd(b("z"))
        .setSortTarget(RangeRequest.SortTarget.CREATE).build()));
    add("range max create", () -> kv.range(RangeRequest.newBuilder().setKey(b("a")).setRangeEnd(b("z"))
        .setMaxCreateRevision(base + 2).build()));
    add("range revision negative", () -> kv.range(RangeRequest.newBuilder().setKey(b("a")).setRevision(-5).build()));
    add("range limit negative", () -> kv.range(RangeRequest.newBuilder().setKey(b("a")).setRangeEnd(b("z")).setLimit(-1).build()));
    add("range key > range_end", () -> kv.range(RangeRequest.newBuilder().setKey(b("c")).setRangeEnd(b("a")).build()));
    add("put ignore_value missing key", () -> kv.put(PutRequest.newBuilder().setKey(b("zz")).setIgnoreValue(true).build()));
    add("put ignore_lease missing key", () -> kv.put(PutRequest.newBuilder().setKey(b("zz")).setValue(b("v")).setIgnoreLease(true).build()));
    add("put ignore_value with value", () -> kv.put(PutRequest.newBuilder().setKey(b("a")).setValue(b("v")).setIgnoreValue(true).build()));
    add("put empty key", () -> kv.put(PutRequest.newBuilder().setValue(b("v")).build()));
    add("put too large", () -> kv.put(PutRequest.newBuilder().setKey(b("big")).setValue(ByteString.copyFrom(new byte[1_600_000])).build()));
    add("delete range [b, d) prev_kv", () -> kv.deleteRange(DeleteRangeRequest.newBuilder().setKey(b("b")).setRangeEnd(b("d")).setPrevKv(true).build()));
    add("delete empty key", () -> kv.deleteRange(DeleteRangeRequest.getDefaultInstance()));
    // compares decided before any op: the nested compare sees "x" missing although the put ran first
    add("txn nested compare sees the state before the txn", () -> kv.txn(TxnRequest.newBuilder()
        .addSuccess(put("x", "1"))
        .addSuccess(RequestOp.newBuilder().setRequestTxn(TxnRequest.newBuilder()
            .addCompare(Compare.newBuilder().setKey(b("x")).setTarget(Compare.CompareTarget.VERSION)
                .setResult(Compare.CompareResult.EQUAL).setVersion(0))
            .addSuccess(put("nested", "saw-missing")).addFailure(put("nested", "saw-x"))))
        .addSuccess(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(b("nested"))))
        .build()));
    add("get nested", () -> kv.range(RangeRequest.newBuilder().setKey(b("nested")).build()));
    add("txn compare LEASE and a range compare", () -> kv.txn(TxnRequest.newBuilder()
        .addCompare(Compare.newBuilder().setKey(b("a")).setTarget(Compare.CompareTarget.LEASE)
            .setResult(Compare.CompareResult.EQUAL).setLease(0))
        .addCompare(Compare.newBuilder().setKey(b("a")).setRangeEnd(b("z")).setTarget(Compare.CompareTarget.VERSION)
            .setResult(Compare.CompareResult.GREATER).setVersion(0))
        .addSuccess(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(b("a")).setRangeEnd(b("z")).setKeysOnly(true)))
        .build()));
    add("txn compare range with a missing value", () -> kv.txn(TxnRequest.newBuilder()
        .addCompare(Compare.newBuilder().setKey(b("a")).setRangeEnd(b("z")).setTarget(Compare.CompareTarget.VALUE)
            .setResult(Compare.CompareResult.NOT_EQUAL).setValue(b("nope")))
        .build()));
    TxnRequest.Builder many = TxnRequest.newBuilder();
    for (int i = 0; i < 129; i++) {
      many.addSuccess(put("many" + i, "v"));
    }
    add("txn 129 ops", () -> kv.txn(many.build()));
    add("txn put and delete of one key in then and else", () -> kv.txn(TxnRequest.newBuilder()
        .addSuccess(put("p", "1")).addFailure(RequestOp.newBuilder().setRequestDeleteRange(DeleteRangeRequest.newBuilder().setKey(b("p")))).build()));
    add("txn nested puts of one key in then and else", () -> kv.txn(TxnRequest.newBuilder()
        .addSuccess(RequestOp.newBuilder().setRequestTxn(TxnRequest.newBuilder().addSuccess(put("q", "1")).addFailure(put("q", "2"))))
        .build()));
    add("txn outer delete range covers a nested put", () -> kv.txn(TxnRequest.newBuilder()
        .addSuccess(RequestOp.newBuilder().setRequestDeleteRange(DeleteRangeRequest.newBuilder().setKey(b("a")).setRangeEnd(b("c"))))
        .addSuccess(RequestOp.newBuilder().setRequestTxn(TxnRequest.newBuilder().addSuccess(put("b", "1")))).build()));
    add("txn from-key delete and a put after it", () -> kv.txn(TxnRequest.newBuilder()
        .addSuccess(RequestOp.newBuilder().setRequestDeleteRange(DeleteRangeRequest.newBuilder().setKey(b("y")).setRangeEnd(b("\0"))))
        .addSuccess(put("yy", "1")).build()));
    add("txn empty op", () -> kv.txn(TxnRequest.newBuilder().addSuccess(RequestOp.getDefaultInstance()).build()));
    add("txn range at a future revision", () -> kv.txn(TxnRequest.newBuilder()
        .addSuccess(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(b("a")).setRevision(base + 10_000)))
        .build()));
  }

  private void leaseChecks(KVGrpc.KVBlockingStub kv, LeaseGrpc.LeaseBlockingStub lease, LeaseGrpc.LeaseStub async)
      throws Exception {
    add("grant id 1000", () -> lease.leaseGrant(LeaseGrantRequest.newBuilder().setID(1000).setTTL(60).build()));
    add("grant id 1000 again", () -> lease.leaseGrant(LeaseGrantRequest.newBuilder().setID(1000).setTTL(60).build()));
    add("grant id -3", () -> lease.leaseGrant(LeaseGrantRequest.newBuilder().setID(-3).setTTL(60).build()));
    add("grant ttl 0", () -> lease.leaseGrant(LeaseGrantRequest.newBuilder().setID(1001).setTTL(0).build()));
    add("put with lease 1000", () -> kv.put(PutRequest.newBuilder().setKey(b("l1")).setValue(b("v")).setLease(1000).build()));
    add("put ignore_lease keeps it", () -> kv.put(PutRequest.newBuilder().setKey(b("l1")).setValue(b("w")).setIgnoreLease(true).build()));
    add("range leased key", () -> kv.range(RangeRequest.newBuilder().setKey(b("l1")).build()));
    add("txn compare LEASE 1000", () -> kv.txn(TxnRequest.newBuilder()
        .addCompare(Compare.newBuilder().setKey(b("l1")).setTarget(Compare.CompareTarget.LEASE)
            .setResult(Compare.CompareResult.EQUAL).setLease(1000)).build()));
    add("timetolive with keys", () -> withTtl(lease.leaseTimeToLive(LeaseTimeToLiveRequest.newBuilder().setID(1000).setKeys(true).build())));
    add("timetolive unknown", () -> lease.leaseTimeToLive(LeaseTimeToLiveRequest.newBuilder().setID(4242).build()));
    add("leases", () -> {
      var r = lease.leaseLeases(LeaseLeasesRequest.getDefaultInstance()).toBuilder();
      var sorted = new ArrayList<>(r.getLeasesList());
      sorted.sort((x, y) -> Long.compare(x.getID(), y.getID()));
      return r.clearLeases().addAllLeases(sorted).build();
    });
    List<LeaseKeepAliveResponse> alive = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> done = new CompletableFuture<>();
    var in = async.leaseKeepAlive(new StreamObserver<>() {
      @Override
      public void onNext(LeaseKeepAliveResponse r) {
        alive.add(r);
      }

      @Override
      public void onError(Throwable t) {
        done.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        done.complete(null);
      }
    });
    in.onNext(LeaseKeepAliveRequest.newBuilder().setID(1000).build());
    in.onNext(LeaseKeepAliveRequest.newBuilder().setID(4242).build());
    in.onCompleted();
    done.get(10, TimeUnit.SECONDS);
    for (var r : alive) {
      add("keepalive", () -> r);
    }
    add("revoke 1000", () -> lease.leaseRevoke(LeaseRevokeRequest.newBuilder().setID(1000).build()));
    add("revoke 1000 again", () -> lease.leaseRevoke(LeaseRevokeRequest.newBuilder().setID(1000).build()));
    add("leased key after revoke", () -> kv.range(RangeRequest.newBuilder().setKey(b("l1")).build()));
    add("revoke 1001", () -> lease.leaseRevoke(LeaseRevokeRequest.newBuilder().setID(1001).build()));
  }

  private void watchChecks(KVGrpc.KVBlockingStub kv, WatchGrpc.WatchStub watch) throws Exception {
    List<WatchResponse> got = new CopyOnWriteArrayList<>();
    CompletableFuture<Throwable> ended = new CompletableFuture<>();
    StreamObserver<WatchRequest> in = watch.watch(new StreamObserver<>() {
      @Override
      public void onNext(WatchResponse r) {
        got.add(r);
      }

      @Override
      public void onError(Throwable t) {
        ended.complete(t);
      }

      @Override
      public void onCompleted() {
        ended.complete(null);
      }
    });
    long now = kv.range(RangeRequest.newBuilder().setKey(b("probe")).build()).getHeader().getRevision();
    step("watch w (auto id)", got, 1, () -> in.onNext(create(WatchCreateRequest.newBuilder().setKey(b("w")))));
    step("put w", got, 1, () -> kv.put(PutRequest.newBuilder().setKey(b("w")).setValue(b("1")).build()));
    step("watch id 7 on prefix w with prev_kv", got, 1, () -> in.onNext(create(WatchCreateRequest.newBuilder()
        .setKey(b("w")).setRangeEnd(b("x")).setWatchId(7).setPrevKv(true))));
    step("watch id 7 again", got, 1, () -> in.onNext(create(WatchCreateRequest.newBuilder().setKey(b("q")).setWatchId(7))));
    step("put w again (two watchers)", got, 2, () -> kv.put(PutRequest.newBuilder().setKey(b("w")).setValue(b("2")).build()));
    step("watch f with NOPUT", got, 1, () -> in.onNext(create(WatchCreateRequest.newBuilder().setKey(b("f"))
        .addFilters(WatchCreateRequest.FilterType.NOPUT))));
    step("put f, delete f", got, 1, () -> {
      kv.put(PutRequest.newBuilder().setKey(b("f")).setValue(b("1")).build());
      kv.deleteRange(DeleteRangeRequest.newBuilder().setKey(b("f")).build());
    });
    step("watch g with NODELETE", got, 1, () -> in.onNext(create(WatchCreateRequest.newBuilder().setKey(b("g"))
        .addFilters(WatchCreateRequest.FilterType.NODELETE))));
    step("put g, delete g", got, 1, () -> {
      kv.put(PutRequest.newBuilder().setKey(b("g")).setValue(b("1")).build());
      kv.deleteRange(DeleteRangeRequest.newBuilder().setKey(b("g")).build());
    });
    step("progress", got, 1, () -> in.onNext(WatchRequest.newBuilder().setProgressRequest(WatchProgressRequest.getDefaultInstance()).build()));
    step("cancel 7", got, 1, () -> in.onNext(WatchRequest.newBuilder().setCancelRequest(WatchCancelRequest.newBuilder().setWatchId(7)).build()));
    step("cancel 99 (unknown; no answer) then watch everything (empty key, from-key end)", got, 1, () -> {
      in.onNext(WatchRequest.newBuilder().setCancelRequest(WatchCancelRequest.newBuilder().setWatchId(99)).build());
      in.onNext(create(WatchCreateRequest.newBuilder().setRangeEnd(b("\0"))));
    });
    step("put zzz (seen by the everything watcher)", got, 1, () -> kv.put(PutRequest.newBuilder().setKey(b("zzz")).setValue(b("1")).build()));
    step("watch h from a future revision", got, 1, () -> in.onNext(create(WatchCreateRequest.newBuilder().setKey(b("h"))
        .setStartRevision(now + 100))));
    step("watch w from the start (history, prev_kv)", got, 2, () -> in.onNext(create(WatchCreateRequest.newBuilder()
        .setKey(b("w")).setStartRevision(base + 1).setPrevKv(true))));
    step("compact", got, 0, () -> kv.compact(CompactionRequest.newBuilder().setRevision(now).setPhysical(true).build()));
    step("watch from a compacted revision", got, 2, () -> in.onNext(create(WatchCreateRequest.newBuilder().setKey(b("w"))
        .setStartRevision(base + 1))));
    // the delete of l1 (lease 1000 revoked) is at the compacted revision: its previous version is
    // gone, so etcd, which reads prev_kv at send time, sends the event without it
    step("watch l1 from the compacted revision with prev_kv", got, 1, () -> in.onNext(create(WatchCreateRequest.newBuilder()
        .setKey(b("l1")).setStartRevision(now).setPrevKv(true))));
    // etcd catches a watcher up every 100 ms and cancels one a compaction overtakes before that:
    // cancel this one so that the next compaction finds nothing in flight
    step("cancel the l1 watch", got, 1, () -> in.onNext(WatchRequest.newBuilder()
        .setCancelRequest(WatchCancelRequest.newBuilder().setWatchId(7)).build()));
    long[] zz = new long[1];
    step("put zzz again (seen by the everything watcher)", got, 1,
        () -> zz[0] = kv.put(PutRequest.newBuilder().setKey(b("zzz")).setValue(b("2")).build()).getHeader().getRevision());
    long z = zz[0];
    step("compact there", got, 0, () -> kv.compact(CompactionRequest.newBuilder().setRevision(z).setPhysical(true).build()));
    step("watch zzz from the compacted revision with prev_kv (the put stays, its prev_kv is gone)", got, 2,
        () -> in.onNext(create(WatchCreateRequest.newBuilder().setKey(b("zzz")).setStartRevision(z).setPrevKv(true))));
    step("range at a compacted revision", got, 0, () -> add("  range", () -> kv.range(RangeRequest.newBuilder()
        .setKey(b("w")).setRevision(base + 1).build())));
    // etcd keeps a watch stream, and its watchers, after the client half-closes it
    step("half-close, then put w (three watchers on w)", got, 3, () -> {
      in.onCompleted();
      kv.put(PutRequest.newBuilder().setKey(b("w")).setValue(b("3")).build());
    });
    lines.add("watch stream ended by then: " + ended.isDone());
  }

  private static WatchRequest create(WatchCreateRequest.Builder c) {
    return WatchRequest.newBuilder().setCreateRequest(c).build();
  }

  private static RequestOp put(String k, String v) {
    return RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b(k)).setValue(b(v))).build();
  }

  /** Does {@code action}, then records the next {@code expect} watch answers (waiting at most 10 s). */
  private void step(String what, List<WatchResponse> got, int expect, Runnable action) throws InterruptedException {
    int before = got.size();
    lines.add(what);
    action.run();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (got.size() < before + expect && System.nanoTime() < deadline) {
      Thread.sleep(10); // poll interval; the loop re-checks the answers
    }
    if (got.size() < before + expect) {
      lines.add("  (only " + (got.size() - before) + " of " + expect + " answers in 10 s)");
    }
    // one watcher's answers come in order; etcd sends different watchers' in Go map order
    List<WatchResponse> answers = new ArrayList<>(got.subList(before, got.size()));
    answers.sort(java.util.Comparator.comparingLong(WatchResponse::getWatchId));
    for (WatchResponse r : answers) {
      lines.add("  " + text(r));
    }
    got.subList(before, got.size()).clear();
  }

  private static MessageOrBuilder withTtl(dev.flotilla.proto.etcd.etcdserverpb.LeaseTimeToLiveResponse r) {
    // the remaining TTL depends on the client's speed; a second or two under the granted TTL is expected
    long ttl = r.getTTL() >= r.getGrantedTTL() - 2 && r.getTTL() < r.getGrantedTTL() ? r.getGrantedTTL() - 1 : r.getTTL();
    return r.toBuilder().setTTL(ttl).build();
  }

  private void add(String what, Supplier<? extends MessageOrBuilder> call) {
    try {
      lines.add(what + ": " + text(call.get()));
    } catch (StatusRuntimeException e) {
      lines.add(what + ": error " + e.getStatus().getCode() + " " + e.getStatus().getDescription());
    }
  }

  private String text(MessageOrBuilder m) {
    String s = TextFormat.printer().emittingSingleLine(true).printToString(m);
    Matcher r = REV.matcher(s);
    StringBuilder out = new StringBuilder();
    while (r.find()) {
      long v = Long.parseLong(r.group(2));
      r.appendReplacement(out, r.group(1) + ": " + (v == 0 ? "0" : "R" + (v >= base ? "+" : "") + (v - base)));
    }
    r.appendTail(out);
    return IDS.matcher(out.toString()).replaceAll(mr -> {
      long v = Long.parseUnsignedLong(mr.group(2));
      // lease ids are chosen by the session (1000, 1001, 4242): keep them
      return mr.group(1).equals("ID") && v < 10_000 ? mr.group() : mr.group(1) + ": <n>";
    });
  }
}
