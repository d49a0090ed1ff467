package dev.flotilla.kv.api.v3;

import com.google.protobuf.ByteString;
import dev.flotilla.kv.mvcc.ReadView;
import dev.flotilla.kv.server.ApplyOutcome;
import dev.flotilla.kv.server.StoreBackup;
import dev.flotilla.kv.server.StoreMember;
import dev.flotilla.kv.v3.V3Error;
import dev.flotilla.proto.etcd.etcdserverpb.AlarmMember;
import dev.flotilla.proto.etcd.etcdserverpb.AlarmRequest;
import dev.flotilla.proto.etcd.etcdserverpb.AlarmResponse;
import dev.flotilla.proto.etcd.etcdserverpb.AlarmType;
import dev.flotilla.proto.etcd.etcdserverpb.DefragmentRequest;
import dev.flotilla.proto.etcd.etcdserverpb.DefragmentResponse;
import dev.flotilla.proto.etcd.etcdserverpb.HashKVRequest;
import dev.flotilla.proto.etcd.etcdserverpb.HashKVResponse;
import dev.flotilla.proto.etcd.etcdserverpb.HashRequest;
import dev.flotilla.proto.etcd.etcdserverpb.HashResponse;
import dev.flotilla.proto.etcd.etcdserverpb.MaintenanceGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.MoveLeaderRequest;
import dev.flotilla.proto.etcd.etcdserverpb.MoveLeaderResponse;
import dev.flotilla.proto.etcd.etcdserverpb.ResponseHeader;
import dev.flotilla.proto.etcd.etcdserverpb.SnapshotRequest;
import dev.flotilla.proto.etcd.etcdserverpb.SnapshotResponse;
import dev.flotilla.proto.etcd.etcdserverpb.StatusRequest;
import dev.flotilla.proto.etcd.etcdserverpb.StatusResponse;
import dev.flotilla.proto.store.MemberRecord;
import dev.flotilla.proto.store.StoreCommand;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * etcd's Maintenance service: Status, Alarm (NOSPACE, replicated through the log), Snapshot (a
 * {@link StoreBackup} streamed in chunks), Hash and HashKV, Defragment, MoveLeader. Work that reads
 * or rewrites the whole store runs on its own thread, never on a gRPC one.
 */
final class MaintenanceService extends MaintenanceGrpc.MaintenanceImplBase implements AutoCloseable {
  static final String VERSION = "3.4.23";
  static final int SNAPSHOT_CHUNK = 32 * 1024;
  /** How long MoveLeader waits for the transferee to lead (etcd waits on the client's deadline). */
  static final long MOVE_LEADER_TIMEOUT_MS = 10_000;

  private final StoreMember member;
  private final KvService headers;
  private final ExecutorService work = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "maintenance");
    t.setDaemon(true);
    return t;
  });

  MaintenanceService(StoreMember member, KvService headers) {
    this.member = member;
    this.headers = headers;
    // snapshots being sent when the process died last time
    try (var stale = Files.newDirectoryStream(member.memberDir(), "snapshot-*.part")) {
      for (Path p : stale) {
        delete(p);
      }
    } catch (IOException e) {
      // the member dir is listed again at the next start
    }
  }

  private ResponseHeader header() {
    return headers.header(ResponseHeader.newBuilder().setRevision(member.store().revision()).build());
  }

  @Override
  public void status(StatusRequest r, StreamObserver<StatusResponse> out) {
    long leader = member.leaderId();
    var resp = StatusResponse.newBuilder()
        .setHeader(header())
        .setVersion(VERSION)
        .setDbSize(member.store().sizeBytes())
        .setDbSizeInUse(member.store().liveBytes())
        .setLeader(leader)
        .setRaftIndex(member.log().committedIndex())
        .setRaftTerm(member.log().term())
        .setRaftAppliedIndex(member.store().appliedIndex())
        .setIsLearner(isLearner(member.identity().memberId()));
    if (leader == 0) {
      resp.addErrors("etcdserver: no leader");
    }
    for (AlarmMember a : member.machine().alarms().list()) {
      resp.addErrors(alarmText(a));
    }
    out.onNext(resp.build());
    out.onCompleted();
  }

  /** An alarm as etcd 3.4 prints it in Status errors (gogoproto's compact text form). */
  static String alarmText(AlarmMember a) {
    return "memberID:" + Long.toUnsignedString(a.getMemberID()) + " alarm:" + a.getAlarm().name() + " ";
  }

  private boolean isLearner(long id) {
    MemberRecord m = member.machine().members().get(id);
    return m != null && m.getLearner();
  }

  @Override
  public void alarm(AlarmRequest r, StreamObserver<AlarmResponse> out) {
    // etcd applies Alarm through the log and answers without a header
    member.log().propose(StoreCommand.newBuilder().setV3Alarm(r).build().toByteArray())
        .whenComplete((outcome, err) -> {
          if (err != null) {
            out.onError(V3Status.internal(err));
          } else if (outcome instanceof ApplyOutcome.V3Done d) {
            out.onNext((AlarmResponse) d.response());
            out.onCompleted();
          } else {
            out.onError(V3Status.internal(new IllegalStateException("unexpected outcome " + outcome)));
          }
        });
  }

  /** Raises NOSPACE for this member through the log (etcd's quota check does this on a refused write). */
  void raiseNoSpace() {
    if (member.machine().alarms().active(AlarmType.NOSPACE)) {
      return;
    }
    member.log().propose(StoreCommand.newBuilder().setV3Alarm(AlarmRequest.newBuilder()
        .setAction(AlarmRequest.AlarmAction.ACTIVATE).setMemberID(member.identity().memberId())
        .setAlarm(AlarmType.NOSPACE)).build().toByteArray());
  }

  @Override
  public void snapshot(SnapshotRequest r, StreamObserver<SnapshotResponse> responses) {
    var out = (ServerCallStreamObserver<SnapshotResponse>) responses;
    var sender = new SnapshotSender(out);
    // gRPC takes these handlers only before this method returns
    out.setOnReadyHandler(sender::pump);
    out.setOnCancelHandler(sender::cancel);
    CompletableFuture.runAsync(() -> {
      Path file = null;
      try {
        file = Files.createTempFile(member.memberDir(), "snapshot-", ".part");
        long revision = member.store().revision();
        StoreBackup.write(member.store(), file);
        sender.start(file, revision);
      } catch (IOException | RuntimeException e) {
        sender.fail("taking a snapshot failed: " + e.getMessage());
        delete(file);
      }
    }, work);
  }

  /** Sends a backup file in chunks as fast as the client takes them, then deletes it. */
  private final class SnapshotSender {
    private final ServerCallStreamObserver<SnapshotResponse> out;
    private Path file;
    private InputStream in;
    private long size;
    private long left;
    private long revision;
    private boolean done;

    SnapshotSender(ServerCallStreamObserver<SnapshotResponse> out) {
      this.out = out;
    }

    synchronized void start(Path file, long revision) throws IOException {
      this.file = file;
      this.revision = revision;
      this.size = Files.size(file);
      this.left = size;
      if (done) { // cancelled while the backup was written
        delete(file);
        return;
      }
      this.in = Files.newInputStream(file);
      pump();
    }

    synchronized void pump() {
      if (in == null) {
        return; // not written yet
      }
      try {
        while (!done && out.isReady()) {
          byte[] chunk = in.readNBytes((int) Math.min(SNAPSHOT_CHUNK, left));
          var resp = SnapshotResponse.newBuilder().setRemainingBytes(left - chunk.length)
              .setBlob(ByteString.copyFrom(chunk));
          if (left == size) { // the first chunk tells the snapshot's revision
            resp.setHeader(headers.header(ResponseHeader.newBuilder().setRevision(revision).build()));
          }
          left -= chunk.length;
          out.onNext(resp.build());
          if (left == 0) {
            finish();
            out.onCompleted();
          }
        }
      } catch (IOException | RuntimeException e) {
        fail("sending the snapshot failed: " + e.getMessage());
      }
    }

    synchronized void fail(String message) {
      if (!done) {
        finish();
        out.onError(Status.INTERNAL.withDescription("etcdserver: " + message).asRuntimeException());
      }
    }

    synchronized void cancel() {
      finish();
    }

    private void finish() {
      done = true;
      if (in != null) {
        closeQuietly(in);
        in = null;
      }
      delete(file);
    }
  }

  @Override
  public void hash(HashRequest r, StreamObserver<HashResponse> out) {
    CompletableFuture.runAsync(() -> {
      var crc = new java.util.zip.CRC32C();
      try (var dump = new java.io.DataOutputStream(new java.util.zip.CheckedOutputStream(
          java.io.OutputStream.nullOutputStream(), crc))) {
        long rev = member.store().revision();
        member.store().dump(dump);
        dump.flush();
        out.onNext(HashResponse.newBuilder()
            .setHeader(headers.header(ResponseHeader.newBuilder().setRevision(rev).build()))
            .setHash((int) crc.getValue()).build());
        out.onCompleted();
      } catch (IOException | RuntimeException e) {
        out.onError(V3Status.internal(e));
      }
    }, work);
  }

  @Override
  public void hashKV(HashKVRequest r, StreamObserver<HashKVResponse> out) {
    CompletableFuture.runAsync(() -> {
      try (ReadView view = member.store().snapshot()) {
        long compacted = view.compactRevision();
        long rev = r.getRevision() == 0 ? view.revision() : r.getRevision();
        if (rev > view.revision()) {
          throw V3Error.futureRevision();
        }
        if (rev < compacted) {
          throw V3Error.compacted();
        }
        out.onNext(HashKVResponse.newBuilder()
            .setHeader(headers.header(ResponseHeader.newBuilder().setRevision(view.revision()).build()))
            .setHash(view.hashKv(rev))
            .setCompactRevision(compacted == 0 ? -1 : compacted) // etcd: -1 before any compaction
            .build());
        out.onCompleted();
      } catch (V3Error e) {
        out.onError(V3Status.of(e));
      } catch (RuntimeException e) {
        out.onError(V3Status.internal(e));
      }
    }, work);
  }

  @Override
  public void defragment(DefragmentRequest r, StreamObserver<DefragmentResponse> out) {
    CompletableFuture.runAsync(() -> {
      try {
        member.store().defragment();
        out.onNext(DefragmentResponse.getDefaultInstance()); // etcd 3.4 answers without a header
        out.onCompleted();
      } catch (IOException | RuntimeException e) {
        out.onError(V3Status.internal(e));
      }
    }, work);
  }

  /**
   * Hands leadership to {@code targetID} with Raft's leadership transfer (TimeoutNow) and answers
   * once the target leads. etcd's words when this member does not lead, or the target is no voter.
   */
  @Override
  public void moveLeader(MoveLeaderRequest r, StreamObserver<MoveLeaderResponse> out) {
    var raft = member.replicatedLog();
    long self = member.identity().memberId();
    if (raft == null) {
      if (r.getTargetID() == self) {
        out.onNext(MoveLeaderResponse.newBuilder().setHeader(header()).build());
        out.onCompleted();
      } else {
        out.onError(Status.FAILED_PRECONDITION.withDescription("etcdserver: bad leader transferee").asRuntimeException());
      }
      return;
    }
    if (!raft.isLeader()) {
      out.onError(Status.FAILED_PRECONDITION.withDescription("etcdserver: not leader").asRuntimeException());
      return;
    }
    MemberRecord target = member.machine().members().get(r.getTargetID());
    if (target == null || target.getLearner()) {
      out.onError(Status.FAILED_PRECONDITION.withDescription("etcdserver: bad leader transferee").asRuntimeException());
      return;
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MOVE_LEADER_TIMEOUT_MS);
    raft.transferLeader(r.getTargetID()).whenComplete((v, err) -> {
      if (err != null) {
        out.onError(V3Status.internal(err));
      } else {
        awaitLeader(r.getTargetID(), deadline, out);
      }
    });
  }

  private void awaitLeader(long target, long deadline, StreamObserver<MoveLeaderResponse> out) {
    if (member.leaderId() == target) {
      out.onNext(MoveLeaderResponse.newBuilder().setHeader(header()).build());
      out.onCompleted();
    } else if (System.nanoTime() > deadline) {
      out.onError(Status.UNAVAILABLE.withDescription("etcdserver: request timed out, leader transfer took too long")
          .asRuntimeException());
    } else {
      CompletableFuture.delayedExecutor(20, TimeUnit.MILLISECONDS)
          .execute(() -> awaitLeader(target, deadline, out));
    }
  }

  private static void delete(Path file) {
    if (file != null) {
      try {
        Files.deleteIfExists(file);
      } catch (IOException ignored) {
        // a temp file in the member dir: the next start does not read it
      }
    }
  }

  private static void closeQuietly(InputStream in) {
    try {
      in.close();
    } catch (IOException ignored) {
      // nothing left to read
    }
  }

  @Override
  public void close() {
    work.shutdownNow();
  }
}
