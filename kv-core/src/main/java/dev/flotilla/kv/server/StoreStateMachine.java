package dev.flotilla.kv.server;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import dev.flotilla.kv.mvcc.MvccStore;
import dev.flotilla.kv.mvcc.ReadView;
import dev.flotilla.kv.mvcc.WriteTxn;
import dev.flotilla.kv.v2.V2Applier;
import dev.flotilla.kv.v2.V2Change;
import dev.flotilla.kv.v2.V2Error;
import dev.flotilla.kv.v2.V2Event;
import dev.flotilla.kv.v2.V2Node;
import dev.flotilla.kv.v2.V2Path;
import dev.flotilla.kv.v2.V2WatcherHub;
import dev.flotilla.kv.v3.V3Error;
import dev.flotilla.kv.v3.V3Kv;
import dev.flotilla.kv.v3.V3WatchHub;
import dev.flotilla.kv.v3.V3Lessor;
import dev.flotilla.proto.etcd.etcdserverpb.CompactionRequest;
import dev.flotilla.proto.etcd.etcdserverpb.CompactionResponse;
import dev.flotilla.proto.etcd.etcdserverpb.ResponseHeader;
import dev.flotilla.proto.store.KeyRecord;
import dev.flotilla.proto.store.StoreCommand;
import dev.flotilla.proto.store.V2EventRecord;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The deterministic heart of the store: {@link #apply(long, byte[])} executes log commands in
 * log order against the MVCC store, whether the log is the local WAL or, later, Raft. Only
 * the command's bytes and the current state decide the outcome. One thread calls apply.
 */
public final class StoreStateMachine {
  private final MvccStore store;
  private final V2WatcherHub hub = new V2WatcherHub();
  private final V3WatchHub v3Watchers;
  private final V3Lessor lessor = new V3Lessor();
  private final java.time.Clock clock;
  private final ClusterMembers members;
  private final Alarms alarms;
  private final dev.flotilla.kv.auth.AuthStore auth;
  private final dev.flotilla.kv.v2.V2StoreStats v2Stats = new dev.flotilla.kv.v2.V2StoreStats();
  /**
   * Events that leave the v2 watch window leave the store ({@code v2events}) in runs: one range
   * delete each time the window has moved on by this many indexes, not a delete per event. A delete
   * per v2 write put a second record into that memtable at a place of its own, far from the new
   * event's: without it the apply thread alone took ~20% less CPU per v2 PUT (V2PutApplyHarness),
   * a 3-member cluster's apply threads ~5% less (bench/RESULTS.md, seventeenth session). The store
   * so holds up to this many indexes of events before the window; loading the window keeps the
   * newest {@link dev.flotilla.kv.v2.V2EventHistory#CAPACITY}.
   */
  static final long V2_EVENTS_TRIM_EVERY = 1024;
  /** No stored event is below this index (the last range delete's end; 0 after a start): apply thread. */
  private long v2EventsStoredFrom;

  public StoreStateMachine(MvccStore store) {
    this(store, java.time.Clock.systemUTC());
  }

  /** {@code clock} only places lease expiries in memory; the stored state never reads it. */
  public StoreStateMachine(MvccStore store, java.time.Clock clock) {
    this.store = store;
    this.clock = clock;
    this.v3Watchers = new V3WatchHub(store);
    this.members = new ClusterMembers(store);
    this.alarms = new Alarms(store);
    this.auth = new dev.flotilla.kv.auth.AuthStore(store, new dev.flotilla.kv.auth.SimpleTokens());
    loadMemoryState();
  }

  /** The in-memory parts rebuilt from the store: the v2 event window, lease expiries, members. */
  private void loadMemoryState() {
    v2EventsStoredFrom = 0;
    List<V2Event> window = new ArrayList<>();
    try (ReadView view = store.snapshot()) {
      for (byte[] b : view.v2Events()) {
        window.add(decode(b));
      }
    }
    hub.restore(window, store.revision());
    try (ReadView view = store.snapshot()) {
      lessor.recover(view, nowNanos());
    }
  }

  /** The state a Raft snapshot carries: the whole store (after a flush, so it is durable too). */
  public byte[] snapshotState() {
    return snapshotStateLater().get();
  }

  /**
   * {@link #snapshotState} in two steps: the store as it is now is captured at once (a RocksDB
   * snapshot), and the returned supplier, called once from any thread, flushes the store and
   * encodes that capture, so that the caller's thread need not wait for the encoding.
   */
  public java.util.function.Supplier<byte[]> snapshotStateLater() {
    MvccStore.DumpPoint point = store.dumpPoint();
    return () -> {
      try (point) {
        store.flush();
        var bytes = new java.io.ByteArrayOutputStream();
        // buffered: DataOutputStream writes each int byte by byte, and a Deflater call per byte
        // made a 100,000-entry store take seconds to encode. BEST_SPEED: at the default level the
        // deflate was 70% of the encoding's CPU, and every member encodes its whole store (all
        // history) every snapshot-count entries, under the write load (bench/RESULTS.md)
        var deflater = new java.util.zip.Deflater(java.util.zip.Deflater.BEST_SPEED);
        try (var out = new java.io.DataOutputStream(new java.io.BufferedOutputStream(
            new java.util.zip.DeflaterOutputStream(bytes, deflater, 1 << 16), 1 << 16))) {
          point.dump(out);
        } finally {
          deflater.end();
        }
        return bytes.toByteArray();
      } catch (java.io.IOException e) {
        throw new IllegalStateException("taking a store snapshot failed: " + e.getMessage(), e);
      }
    };
  }

  /** Makes everything applied so far durable (the store writes without its own WAL). Any thread. */
  public void flushStore() {
    try {
      store.flush();
    } catch (java.io.IOException e) {
      throw new IllegalStateException("flushing the store failed: " + e.getMessage(), e);
    }
  }

  /** Replaces the whole state with a leader's snapshot ({@link #snapshotState}). Apply thread. */
  public void restoreState(byte[] snapshot) {
    if (snapshot.length == 0) { // a periodic snapshot of a store that kept its own state (RaftNode)
      throw new IllegalStateException("the snapshot holds no data: the store it stands for is behind it "
          + "(lost or replaced); wipe this member's data dir and add it again");
    }
    try (var in = new java.io.DataInputStream(new java.io.BufferedInputStream(new java.util.zip.InflaterInputStream(
        new java.io.ByteArrayInputStream(snapshot)), 1 << 16))) {
      store.restore(in);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("restoring the store from a snapshot failed: " + e.getMessage(), e);
    }
    loadMemoryState();
    members.reload(store);
    alarms.reload(store);
    auth.reload(store);
    members.announceAll();
    v3Watchers.publish(List.of(), store.revision());
  }

  private long nowNanos() {
    return StoreMember.unixNanos(clock);
  }

  public java.time.Clock clock() {
    return clock;
  }

  public V3Lessor lessor() {
    return lessor;
  }

  public dev.flotilla.kv.v2.V2StoreStats v2Stats() {
    return v2Stats;
  }

  public Alarms alarms() {
    return alarms;
  }

  /** Users, roles, permissions and tokens (etcd's v3 auth). */
  public dev.flotilla.kv.auth.AuthStore auth() {
    return auth;
  }

  public ClusterMembers members() {
    return members;
  }

  public MvccStore store() {
    return store;
  }

  public V3WatchHub v3Watchers() {
    return v3Watchers;
  }

  public V2WatcherHub v2Watchers() {
    return hub;
  }

  public long appliedIndex() {
    return store.appliedIndex();
  }

  /** One log entry to apply. */
  public record Entry(long index, byte[] data) {}

  public ApplyOutcome apply(long index, byte[] data) {
    return applyBatch(List.of(new Entry(index, data))).get(0);
  }

  /**
   * Applies entries in log order as one group: one RocksDB write for all of them, then the
   * watchers hear of every change, then the outcomes go back (one per entry, in order).
   */
  public List<ApplyOutcome> applyBatch(List<Entry> entries) {
    List<ApplyOutcome> outcomes = new ArrayList<>(entries.size());
    List<V2Change> v2changes = new ArrayList<>();
    List<Long> compactions = new ArrayList<>();
    List<dev.flotilla.proto.store.ChangeRecord> mvccChanges;
    pendingCompactRevision = store.compactRevision();
    try (WriteTxn txn = store.begin()) {
      for (Entry e : entries) {
        if (e.index() <= store.appliedIndex()) {
          outcomes.add(new ApplyOutcome.Done(e.index())); // already in the store (replay)
          continue;
        }
        StoreCommand cmd;
        try {
          cmd = parse(e.data());
        } catch (IOException ex) {
          throw new IllegalStateException("log entry " + e.index() + " is not a store command", ex);
        }
        txn.startCommand(e.index());
        ApplyOutcome outcome = applyOne(e.index(), txn, cmd, v2changes);
        if (outcome instanceof ApplyOutcome.V2Failed || outcome instanceof ApplyOutcome.V3Failed) {
          txn.abortCommand(); // the failed command still takes its place in the log
        } else {
          txn.endCommand();
          if (cmd.getCmdCase() == StoreCommand.CmdCase.V3_COMPACTION) {
            compactions.add(cmd.getV3Compaction().getRevision());
            pendingCompactRevision = cmd.getV3Compaction().getRevision();
          }
        }
        outcomes.add(outcome);
      }
      long evicted = hub.lastEvictedBy(v2changes.size());
      if (evicted - v2EventsStoredFrom >= V2_EVENTS_TRIM_EVERY) {
        txn.deleteV2EventsBelow(evicted + 1);
        v2EventsStoredFrom = evicted + 1;
      }
      for (V2Change c : v2changes) {
        txn.putV2Event(c.event().index(), encode(c.event()));
      }
      txn.commit();
      mvccChanges = List.copyOf(txn.changes());
    }
    for (long rev : compactions) {
      store.compact(rev);
    }
    hub.publish(v2changes, store.revision());
    v3Watchers.publish(mvccChanges, store.revision());
    return outcomes;
  }

  /**
   * A log entry's command. A plain v3 put's key and value share the entry's array instead of being
   * copied out of it: log entries are never changed once made, the value goes on into the records
   * written (and the store's KvCache), and the entry is little more than that value, so sharing
   * pins nothing more (the copy was 1 KiB of garbage per put in check perf). Other commands are
   * copied as before: a record of one key of a large txn must not keep the whole txn's entry alive.
   */
  static StoreCommand parse(byte[] data) throws IOException {
    if (data.length == 0 || data[0] != V3_PUT_TAG) { // fields are written in number order: a put's comes first
      return StoreCommand.parseFrom(data);
    }
    CodedInputStream in = UnsafeByteOperations.unsafeWrap(data).newCodedInput();
    in.enableAliasing(true);
    StoreCommand cmd = StoreCommand.parseFrom(in);
    in.checkLastTagWas(0);
    return cmd;
  }

  /** The first byte of an encoded StoreCommand whose command is a v3 put (field 10, length-delimited). */
  static final byte V3_PUT_TAG = (byte) ((StoreCommand.V3_PUT_FIELD_NUMBER << 3) | 2);

  /** The compact revision as the commands of the current group see it. */
  private long pendingCompactRevision;

  private ApplyOutcome applyOne(long index, WriteTxn txn, StoreCommand cmd, List<V2Change> v2changes) {
    if (cmd.hasRequestAuth()) {
      try {
        auth.checkCommand(cmd, id -> { // store keys carry a one-byte namespace tag (V3Lessor.keys)
          List<byte[]> keys = new ArrayList<>();
          for (byte[] k : txn.leaseKeys(id)) {
            keys.add(java.util.Arrays.copyOfRange(k, 1, k.length));
          }
          return keys;
        });
      } catch (V3Error e) {
        return new ApplyOutcome.V3Failed(index, e);
      }
    }
    switch (cmd.getCmdCase()) {
      case V2_WRITE -> {
        try {
          V2Change c = V2Applier.apply(txn, cmd.getV2Write());
          v2changes.add(c);
          v2Stats.write(cmd.getV2Write(), true);
          return new ApplyOutcome.V2Done(index, c.event());
        } catch (V2Error e) {
          v2Stats.write(cmd.getV2Write(), false);
          return new ApplyOutcome.V2Failed(index, e);
        }
      }
      case V2_EXPIRE -> {
        List<V2Change> expired = V2Applier.expire(txn, cmd.getV2Expire());
        v2Stats.expired(expired.size());
        v2changes.addAll(expired);
        return new ApplyOutcome.Done(index);
      }
      case V3_PUT, V3_DELETE_RANGE, V3_TXN, V3_COMPACTION, V3_LEASE_GRANT, V3_LEASE_REVOKE,
          V3_LEASE_CHECKPOINT, V3_ALARM -> {
        return applyV3(index, txn, cmd);
      }
      case AUTH -> {
        try {
          return new ApplyOutcome.V3Done(index, auth.apply(txn, cmd.getAuth(), index));
        } catch (V3Error e) {
          return new ApplyOutcome.V3Failed(index, e);
        }
      }
      case MEMBER_ADD -> {
        members.add(txn, cmd.getMemberAdd());
        return new ApplyOutcome.Done(index);
      }
      case MEMBER_ATTRIBUTES -> {
        members.publish(txn, cmd.getMemberAttributes());
        return new ApplyOutcome.Done(index);
      }
      case MEMBER_REMOVE -> {
        members.remove(txn, cmd.getMemberRemove());
        return new ApplyOutcome.Done(index);
      }
      default -> {
        return new ApplyOutcome.Done(index);
      }
    }
  }

  private ApplyOutcome applyV3(long index, WriteTxn txn, StoreCommand cmd) {
    try {
      if (alarms.active(dev.flotilla.proto.etcd.etcdserverpb.AlarmType.NOSPACE) && growsStore(cmd)) {
        throw V3Error.noSpace(); // etcd's capped applier
      }
      com.google.protobuf.Message resp = switch (cmd.getCmdCase()) {
        case V3_PUT -> V3Kv.put(txn, cmd.getV3Put());
        case V3_DELETE_RANGE -> V3Kv.deleteRange(txn, cmd.getV3DeleteRange());
        case V3_TXN -> V3Kv.txn(txn, cmd.getV3Txn(), pendingCompactRevision);
        case V3_COMPACTION -> compaction(txn, cmd.getV3Compaction());
        case V3_LEASE_GRANT -> lessor.grant(txn, cmd.getV3LeaseGrant(), nowNanos());
        case V3_LEASE_REVOKE -> lessor.revoke(txn, cmd.getV3LeaseRevoke());
        case V3_LEASE_CHECKPOINT -> lessor.checkpoint(txn, cmd.getV3LeaseCheckpoint(), nowNanos());
        case V3_ALARM -> alarms.apply(txn, cmd.getV3Alarm());
        default -> throw new IllegalStateException("not a v3 command: " + cmd.getCmdCase());
      };
      return new ApplyOutcome.V3Done(index, resp);
    } catch (V3Error e) {
      return new ApplyOutcome.V3Failed(index, e);
    }
  }

  /** What etcd refuses while NOSPACE is raised: puts, lease grants and any txn that is not read-only. */
  public static boolean growsStore(StoreCommand cmd) {
    return switch (cmd.getCmdCase()) {
      case V3_PUT, V3_LEASE_GRANT -> true;
      case V3_TXN -> !dev.flotilla.kv.v3.V3Kv.readOnly(cmd.getV3Txn());
      default -> false;
    };
  }

  private CompactionResponse compaction(WriteTxn txn, CompactionRequest r) throws V3Error {
    if (r.getRevision() > txn.revision()) {
      throw V3Error.futureRevision();
    }
    if (r.getRevision() <= pendingCompactRevision) {
      throw V3Error.compacted();
    }
    return CompactionResponse.newBuilder()
        .setHeader(ResponseHeader.newBuilder().setRevision(txn.revision())).build();
  }

  static byte[] encode(V2Event e) {
    var b = V2EventRecord.newBuilder().setAction(e.action()).setRefresh(e.refresh())
        .setNode(record(e.node())).setNodeTtl(e.node().ttl());
    if (e.prevNode() != null) {
      b.setHasPrevNode(true).setPrevNode(record(e.prevNode())).setPrevNodeTtl(e.prevNode().ttl());
    }
    return b.build().toByteArray();
  }

  static V2Event decode(byte[] bytes) {
    try {
      V2EventRecord r = V2EventRecord.parseFrom(bytes);
      boolean valued = !r.getAction().equals(V2Event.DELETE) && !r.getAction().equals(V2Event.EXPIRE)
          && !r.getAction().equals(V2Event.COMPARE_AND_DELETE);
      V2Node node = node(r.getNode(), r.getNodeTtl(), valued);
      V2Node prev = r.getHasPrevNode() ? node(r.getPrevNode(), r.getPrevNodeTtl(), true) : null;
      return new V2Event(r.getAction(), node, prev, node.modifiedIndex(), node.modifiedIndex(),
          r.getRefresh());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt v2 event record in the store", e);
    }
  }

  private static KeyRecord record(V2Node n) {
    var b = KeyRecord.newBuilder().setKey(ByteString.copyFrom(V2Path.key(n.key())))
        .setDir(n.dir()).setExpireAtUnixNanos(n.expireAtNanos())
        .setModRevision(n.modifiedIndex()).setCreateRevision(n.createdIndex());
    if (n.value() != null) {
      b.setValue(ByteString.copyFrom(n.value(), StandardCharsets.ISO_8859_1));
    }
    return b.build();
  }

  private static V2Node node(KeyRecord r, long ttl, boolean valued) {
    String value = valued && !r.getDir() ? r.getValue().toString(StandardCharsets.ISO_8859_1) : null;
    return new V2Node(V2Path.fromKey(r.getKey().toByteArray()), value, r.getDir(),
        r.getExpireAtUnixNanos(), ttl, r.getModRevision(), r.getCreateRevision(), null);
  }
}
