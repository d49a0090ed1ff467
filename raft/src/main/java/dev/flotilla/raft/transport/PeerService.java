package dev.flotilla.raft.transport;

import dev.flotilla.proto.raft.MessageBatch;
import dev.flotilla.proto.raft.RaftMessage;
import dev.flotilla.proto.raft.RaftPeerGrpc;
import dev.flotilla.proto.raft.SnapshotChunk;
import dev.flotilla.proto.raft.SnapshotReceipt;
import dev.flotilla.proto.raft.StreamSummary;
import dev.flotilla.raft.core.Message;
import dev.flotilla.raft.core.Snapshot;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongPredicate;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving side of {@code RaftPeer}: checks who is calling (metadata, then every message's
 * {@code from}/{@code to}), decodes, and hands messages and reassembled snapshots to the handler.
 */
final class PeerService extends RaftPeerGrpc.RaftPeerImplBase {

  private static final Logger LOG = LoggerFactory.getLogger(PeerService.class);

  static final Metadata.Key<String> FROM = Metadata.Key.of("flotilla-member-from", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> TO = Metadata.Key.of("flotilla-member-to", Metadata.ASCII_STRING_MARSHALLER);
  private static final Context.Key<Long> CALLER = Context.key("flotilla-caller");

  private final long self;
  private final LongPredicate isPeer;
  /** Members removed from the cluster for good (the application knows; by default nobody). */
  volatile LongPredicate removed = id -> false;
  private final Transport.Handler handler;
  private final GrpcTransportOptions options;
  private final TransportStats.Counters counters;
  /** Open incoming streams, so that removing a member can cut them. */
  private final Set<Inbound> inbound = ConcurrentHashMap.newKeySet();
  private volatile boolean closing;

  PeerService(long self, LongPredicate isPeer, Transport.Handler handler, GrpcTransportOptions options,
      TransportStats.Counters counters) {
    this.self = self;
    this.isPeer = isPeer;
    this.handler = handler;
    this.options = options;
    this.counters = counters;
  }

  /** Refuses calls from members outside the peer set, and calls meant for another member. */
  ServerInterceptor identity() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        if (closing) {
          call.close(Status.UNAVAILABLE.withDescription("member " + self + " is shutting down"), new Metadata());
          return new ServerCall.Listener<>() {};
        }
        long from;
        long to;
        try {
          from = Long.parseLong(String.valueOf(headers.get(FROM)));
          to = Long.parseLong(String.valueOf(headers.get(TO)));
        } catch (NumberFormatException e) {
          return refuse(call, Status.UNAUTHENTICATED.withDescription(
              "missing or malformed " + FROM.name() + "/" + TO.name() + " metadata"));
        }
        if (to != self) {
          return refuse(call, Status.FAILED_PRECONDITION.withDescription(
              "this is member " + self + ", not member " + to + "; check the peer address"));
        }
        if (!isPeer.test(from)) {
          if (removed.test(from)) {
            // the one refusal that tells the caller to stop: it is out of the cluster for good
            return refuse(call, Status.ABORTED.withDescription(
                "member " + from + " was removed from the cluster (member " + self + " says so)"));
          }
          return refuse(call, Status.PERMISSION_DENIED.withDescription(
              "member " + from + " is not in the peer set of member " + self));
        }
        return Contexts.interceptCall(Context.current().withValue(CALLER, from), call, headers, next);
      }
    };
  }

  private <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, Status status) {
    counters.callsRefused.incrementAndGet();
    LOG.warn("member {}: refused a peer call: {}", self, status.getDescription());
    call.close(status, new Metadata());
    return new ServerCall.Listener<>() {};
  }

  /** The transport is closing: end incoming streams and refuse new calls, without reporting refusals. */
  void closing() {
    closing = true;
    for (Inbound in : inbound) {
      in.end();
    }
  }

  /** Cuts every open stream from {@code member} (it was removed). */
  void disconnect(long member) {
    for (Inbound in : inbound) {
      if (in.peer == member) {
        in.refuse(Status.PERMISSION_DENIED.withDescription("member " + member + " was removed from the peer set of "
            + self));
      }
    }
  }

  /** One incoming stream; its response observer is closed at most once. */
  private final class Inbound {
    final long peer;
    final ServerCallStreamObserver<?> response;
    boolean done;
    long messages;
    long batches;

    Inbound(long peer, ServerCallStreamObserver<?> response) {
      this.peer = peer;
      this.response = response;
    }

    /** Ends the stream as a shutdown, not a refusal. */
    synchronized void end() {
      if (done) {
        return;
      }
      done = true;
      inbound.remove(this);
      response.onError(Status.UNAVAILABLE.withDescription("member " + self + " is shutting down").asRuntimeException());
    }

    synchronized void refuse(Status status) {
      if (done) {
        return;
      }
      done = true;
      inbound.remove(this);
      counters.callsRefused.incrementAndGet();
      LOG.warn("member {}: closing the stream from member {}: {}", self, peer, status.getDescription());
      response.onError(status.asRuntimeException());
    }
  }

  @Override
  public StreamObserver<MessageBatch> stream(StreamObserver<StreamSummary> responseObserver) {
    Inbound in = new Inbound(CALLER.get(), (ServerCallStreamObserver<StreamSummary>) responseObserver);
    inbound.add(in);
    return new StreamObserver<>() {
      @Override
      public void onNext(MessageBatch batch) {
        synchronized (in) {
          if (in.done) {
            return;
          }
          if (!isPeer.test(in.peer)) {
            in.refuse(Status.PERMISSION_DENIED.withDescription("member " + in.peer + " is not in the peer set of " + self));
            return;
          }
          for (RaftMessage wire : batch.getMessagesList()) {
            Message m;
            try {
              m = MessageCodec.decode(wire);
            } catch (RuntimeException e) {
              in.refuse(Status.INVALID_ARGUMENT.withDescription("undecodable message: " + e.getMessage()));
              return;
            }
            String problem = addressProblem(in.peer, m);
            if (problem != null) {
              in.refuse(Status.PERMISSION_DENIED.withDescription(problem));
              return;
            }
            handler.receive(m);
            in.messages++;
          }
          in.batches++;
          counters.batchesReceived.incrementAndGet();
          counters.messagesReceived.addAndGet(batch.getMessagesCount());
        }
      }

      @Override
      public void onError(Throwable t) {
        synchronized (in) {
          in.done = true;
          inbound.remove(in);
        }
      }

      @Override
      public void onCompleted() {
        synchronized (in) {
          inbound.remove(in);
          if (in.done) {
            return;
          }
          in.done = true;
          responseObserver.onNext(StreamSummary.newBuilder().setMessages(in.messages).setBatches(in.batches).build());
          responseObserver.onCompleted();
        }
      }
    };
  }

  private String addressProblem(long caller, Message m) {
    if (m.from() != caller) {
      return "member " + caller + " sent a message claiming to be from member " + m.from();
    }
    if (m.to() != self) {
      return "member " + caller + " sent member " + self + " a message for member " + m.to();
    }
    return null;
  }

  @Override
  public StreamObserver<SnapshotChunk> sendSnapshot(StreamObserver<SnapshotReceipt> responseObserver) {
    long caller = CALLER.get();
    return new StreamObserver<>() {
      private Message.InstallSnapshot header;
      private byte[] data;
      private int received;
      private int expectedCrc;
      private boolean failed;

      @Override
      public void onNext(SnapshotChunk chunk) {
        if (failed) {
          return;
        }
        if (header == null) {
          String problem = start(chunk);
          if (problem != null) {
            fail(Status.INVALID_ARGUMENT.withDescription(problem));
            return;
          }
        } else if (chunk.hasHeader()) {
          fail(Status.INVALID_ARGUMENT.withDescription("a second snapshot header in one call"));
          return;
        }
        int n = chunk.getData().size();
        if (n > data.length - received) {
          fail(Status.INVALID_ARGUMENT.withDescription("snapshot chunks carry more than the announced "
              + data.length + " bytes"));
          return;
        }
        chunk.getData().copyTo(data, received);
        received += n;
      }

      private String start(SnapshotChunk chunk) {
        if (!chunk.hasHeader()) {
          return "the first snapshot chunk carries no header";
        }
        Message m;
        try {
          m = MessageCodec.decode(chunk.getHeader());
        } catch (RuntimeException e) {
          return "undecodable snapshot header: " + e.getMessage();
        }
        if (!(m instanceof Message.InstallSnapshot s)) {
          return "snapshot header is a " + m.getClass().getSimpleName() + ", not an InstallSnapshot";
        }
        String problem = addressProblem(caller, m);
        if (problem != null) {
          return problem;
        }
        if (chunk.getTotalBytes() > options.maxSnapshotBytes()) {
          return "snapshot of " + chunk.getTotalBytes() + " bytes is larger than this member accepts ("
              + options.maxSnapshotBytes() + ")";
        }
        header = s;
        data = new byte[(int) chunk.getTotalBytes()];
        expectedCrc = chunk.getCrc32C();
        return null;
      }

      private void fail(Status status) {
        failed = true;
        data = null;
        counters.snapshotsRejected.incrementAndGet();
        LOG.warn("member {}: refused a snapshot from member {}: {}", self, caller, status.getDescription());
        responseObserver.onError(status.asRuntimeException());
      }

      @Override
      public void onError(Throwable t) {
        data = null;
      }

      @Override
      public void onCompleted() {
        if (failed) {
          return;
        }
        if (header == null) {
          fail(Status.INVALID_ARGUMENT.withDescription("snapshot call without any chunk"));
          return;
        }
        if (received != data.length) {
          fail(Status.DATA_LOSS.withDescription("snapshot " + header.snapshot() + " ended after " + received
              + " of " + data.length + " bytes"));
          return;
        }
        CRC32C crc = new CRC32C();
        crc.update(data);
        if ((int) crc.getValue() != expectedCrc) {
          fail(Status.DATA_LOSS.withDescription(String.format("snapshot %s has CRC32C %08x, its header says %08x",
              header.snapshot(), (int) crc.getValue(), expectedCrc)));
          return;
        }
        if (!isPeer.test(caller)) {
          fail(Status.PERMISSION_DENIED.withDescription("member " + caller + " is not in the peer set of " + self));
          return;
        }
        Snapshot s = header.snapshot();
        handler.receive(new Message.InstallSnapshot(header.from(), header.to(), header.term(),
            new Snapshot(s.index(), s.term(), s.confState(), data)));
        counters.snapshotsReceived.incrementAndGet();
        responseObserver.onNext(SnapshotReceipt.newBuilder().setReceivedBytes(received).build());
        responseObserver.onCompleted();
      }
    };
  }
}
