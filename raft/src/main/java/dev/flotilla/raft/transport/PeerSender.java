package dev.flotilla.raft.transport;

import com.google.protobuf.UnsafeByteOperations;
import dev.flotilla.proto.raft.MessageBatch;
import dev.flotilla.proto.raft.RaftMessage;
import dev.flotilla.proto.raft.RaftPeerGrpc;
import dev.flotilla.proto.raft.SnapshotChunk;
import dev.flotilla.proto.raft.SnapshotReceipt;
import dev.flotilla.proto.raft.StreamSummary;
import dev.flotilla.raft.core.Message;
import dev.flotilla.raft.core.Snapshot;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything this member sends to one peer: a bounded queue, one thread that drains it into batches
 * on one long-lived {@code RaftPeer.Stream} call (reopened with backoff when it fails), and a
 * single-thread executor for snapshots, which go by {@code RaftPeer.SendSnapshot} in chunks.
 *
 * <p>Direct sends: when nothing is queued and the stream takes more, {@link #send} encodes the
 * caller's messages into one frame and writes it on the caller's thread (the Raft loop), so a
 * frame costs no wake-up of this peer's thread; the queue and its thread take over as soon as
 * anything waits (flow control, or a stream being reopened). One lock keeps the frames in order.
 *
 * <p>Batching: the thread takes every message queued while it waited (for the first message, or for
 * the stream to accept more under gRPC flow control) into one frame. Back-pressure: when the peer
 * reads slower than we write, flow control holds the thread, the queue fills, and what does not
 * fit is dropped and reported unreachable, so the leader falls back to probing that follower.
 */
final class PeerSender {

  private static final Logger LOG = LoggerFactory.getLogger(PeerSender.class);
  /** At most one unreachable report per peer per this many nanoseconds: the core needs one, not thousands. */
  private static final long REPORT_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final long self;
  final long peer;
  final String address;
  private final ManagedChannel channel;
  private final RaftPeerGrpc.RaftPeerStub stub;
  private final GrpcTransportOptions options;
  private final Transport.Handler handler;
  private final TransportStats.Counters counters;
  /** Messages waiting for the stream, oldest first; at most options.queueMessages(). Guarded by lock. */
  private final ArrayDeque<Message> queue = new ArrayDeque<>();
  private final Thread thread;
  private final ExecutorService snapshots;

  /** Guards the stream, the queue and every write to the stream (frames go out in queue order). */
  private final Object lock = new Object();
  /** The open stream, null while down (between a failure and the next attempt). Guarded by lock. */
  private ClientCallStreamObserver<MessageBatch> stream;
  private long nextAttemptNanos;
  private long backoffNanos;
  private volatile boolean up;
  private volatile boolean closed;
  private volatile long lastReportNanos = System.nanoTime() - REPORT_INTERVAL_NANOS;
  private int failuresLogged;

  PeerSender(long self, long peer, String address, ManagedChannel channel, GrpcTransportOptions options,
      Transport.Handler handler, TransportStats.Counters counters) {
    this.self = self;
    this.peer = peer;
    this.address = address;
    this.channel = channel;
    this.options = options;
    this.handler = handler;
    this.counters = counters;
    Metadata headers = new Metadata();
    headers.put(PeerService.FROM, Long.toString(self));
    headers.put(PeerService.TO, Long.toString(peer));
    this.stub = RaftPeerGrpc.newStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    this.backoffNanos = options.reconnectMin().toNanos();
    this.thread = new Thread(this::run, "raft-send-" + self + "-to-" + peer);
    this.thread.setDaemon(true);
    this.snapshots = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "raft-snapshot-" + self + "-to-" + peer);
      t.setDaemon(true);
      return t;
    });
  }

  void start() {
    synchronized (lock) {
      open();
    }
    thread.start();
  }

  /**
   * Never blocks on the peer: {@code messages} (all for this peer, in order) join the queue, and
   * when the stream takes more the queue is written at once on the caller's thread, in frames of up
   * to maxBatchBytes; else this peer's thread writes it when the stream is ready. What does not fit
   * the queue, or finds the stream down, is dropped and the peer reported unreachable.
   */
  void send(List<Message> messages) {
    if (closed) {
      return;
    }
    int dropped = 0;
    synchronized (lock) {
      ClientCallStreamObserver<MessageBatch> s = stream;
      for (Message m : messages) {
        if (m instanceof Message.InstallSnapshot snap) {
          sendSnapshotLater(snap);
        } else if (!up || s == null || queue.size() >= options.queueMessages()) {
          dropped++;
        } else {
          queue.add(m);
        }
      }
      if (s != null && !queue.isEmpty() && s.isReady()) {
        drain(s);
      }
      if (!queue.isEmpty()) {
        lock.notifyAll(); // this peer's thread writes the rest when the stream is ready
      }
    }
    if (dropped > 0) {
      counters.messagesDropped.addAndGet(dropped);
      reportUnreachable();
    }
  }

  private void sendSnapshotLater(Message.InstallSnapshot m) {
    try {
      snapshots.execute(() -> sendSnapshot(m));
    } catch (RejectedExecutionException e) {
      handler.snapshotStatus(peer, false); // closing
    }
  }

  private void reportUnreachable() {
    long now = System.nanoTime();
    if (now - lastReportNanos >= REPORT_INTERVAL_NANOS) {
      lastReportNanos = now;
      handler.unreachable(peer);
    }
  }

  // ---- the message stream -------------------------------------------------------------------

  /** This peer's thread: keeps a stream open, and writes what stays queued when the stream is ready again. */
  private void run() {
    try {
      while (!closed) {
        ClientCallStreamObserver<MessageBatch> s = currentOrReopen();
        if (s == null) {
          continue;
        }
        synchronized (lock) {
          while (!closed && stream == s && (queue.isEmpty() || !s.isReady())) {
            lock.wait(100);
          }
          if (closed) {
            return;
          }
          if (stream != s) {
            dropQueued(); // the stream failed with messages waiting
            continue;
          }
          drain(s);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Writes the queue, oldest first, in frames of up to maxBatchBytes (one message always goes,
   * whatever its size), for as long as {@code s} takes more. The caller holds the lock.
   */
  private void drain(ClientCallStreamObserver<MessageBatch> s) {
    while (!queue.isEmpty() && stream == s && s.isReady()) {
      MessageBatch.Builder batch = MessageBatch.newBuilder();
      long bytes = 0;
      while (!queue.isEmpty()) {
        RaftMessage encoded;
        try {
          encoded = MessageCodec.encode(queue.peek());
        } catch (RuntimeException e) {
          // a message the codec cannot encode is a bug upstream; losing it beats losing the peer
          LOG.error("member {}: cannot encode a message for member {}; dropping it", self, peer, e);
          counters.messagesDropped.incrementAndGet();
          queue.poll();
          continue;
        }
        int size = encoded.getSerializedSize();
        if (batch.getMessagesCount() > 0 && bytes + size > options.maxBatchBytes()) {
          break;
        }
        queue.poll();
        batch.addMessages(encoded);
        bytes += size;
      }
      if (batch.getMessagesCount() == 0) {
        return;
      }
      try {
        s.onNext(batch.build());
      } catch (RuntimeException e) {
        failed(s, Status.fromThrowable(e));
        return;
      }
      counters.batchesSent.incrementAndGet();
      counters.messagesSent.addAndGet(batch.getMessagesCount());
      backoffNanos = options.reconnectMin().toNanos(); // it carried bytes: the peer is there
      failuresLogged = 0;
    }
  }

  /** The stream failed with messages queued: they are lost, and the core hears of it. The caller holds the lock. */
  private void dropQueued() {
    if (queue.isEmpty()) {
      return;
    }
    counters.messagesDropped.addAndGet(queue.size());
    queue.clear();
    reportUnreachable();
  }

  /** The stream to send on, opening a new one when the backoff has passed; null while waiting. */
  private ClientCallStreamObserver<MessageBatch> currentOrReopen() throws InterruptedException {
    synchronized (lock) {
      if (stream != null) {
        return stream;
      }
      long wait = nextAttemptNanos - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.timedWait(lock, Math.min(wait, TimeUnit.MILLISECONDS.toNanos(100)));
        if (nextAttemptNanos - System.nanoTime() > 0 || closed) {
          return null;
        }
      }
      if (closed) {
        return null;
      }
      // the channel has its own reconnect backoff (up to two minutes); ours is the one that counts
      if (channel.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
        channel.resetConnectBackoff();
      }
      open();
      return stream;
    }
  }

  /**
   * Starts a new stream call; the caller holds the lock. The call is made current before it starts
   * (in {@code beforeStart}): a call that fails inside {@code start} (a channel shut down, or any
   * failure delivered on a direct executor) then reaches {@link #failed} as the current stream and
   * is dropped, instead of being installed afterwards as a live stream that never becomes ready.
   */
  private void open() {
    ClientResponseObserver<MessageBatch, StreamSummary> observer = new ClientResponseObserver<>() {
      private ClientCallStreamObserver<MessageBatch> call;

      @Override
      public void beforeStart(ClientCallStreamObserver<MessageBatch> requestStream) {
        call = requestStream;
        stream = requestStream;
        up = true;
        requestStream.setOnReadyHandler(PeerSender.this::signal);
      }

      @Override
      public void onNext(StreamSummary value) {}

      @Override
      public void onError(Throwable t) {
        failed(call, Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {
        failed(call, Status.UNAVAILABLE.withDescription("peer closed the stream"));
      }
    };
    stub.stream(observer); // current from beforeStart on; null again if it already failed
  }

  private void signal() {
    synchronized (lock) {
      lock.notifyAll();
    }
  }

  private void failed(ClientCallStreamObserver<MessageBatch> call, Status status) {
    boolean wasCurrent;
    synchronized (lock) {
      wasCurrent = call != null && stream == call;
      if (wasCurrent) {
        stream = null;
        up = false;
        nextAttemptNanos = System.nanoTime() + backoffNanos;
        backoffNanos = Math.min(backoffNanos * 2, options.reconnectMax().toNanos());
        failuresLogged++;
      }
      lock.notifyAll();
    }
    if (!wasCurrent || closed) {
      return;
    }
    if (status.getCode() == Status.Code.ABORTED) {
      LOG.warn("member {}: member {} at {} refused our stream: {}", self, peer, address, status.getDescription());
      handler.removedFromCluster(peer);
    } else if (status.getCode() == Status.Code.PERMISSION_DENIED || status.getCode() == Status.Code.FAILED_PRECONDITION) {
      LOG.warn("member {}: member {} at {} refused our stream: {}", self, peer, address, status.getDescription());
    } else if (failuresLogged == 1) {
      LOG.info("member {}: stream to member {} at {} is down ({} {}); reconnecting with backoff",
          self, peer, address, status.getCode(), status.getDescription());
    } else {
      LOG.debug("member {}: stream to member {} at {} still down ({})", self, peer, address, status.getCode());
    }
    reportUnreachable();
  }

  // ---- snapshots ------------------------------------------------------------------------------

  private void sendSnapshot(Message.InstallSnapshot m) {
    boolean ok = false;
    try {
      ok = streamSnapshot(m);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      LOG.warn("member {}: sending snapshot {} to member {} failed: {}", self, m.snapshot(), peer, e.toString());
    }
    if (ok) {
      counters.snapshotsSent.incrementAndGet();
    }
    if (!closed) {
      handler.snapshotStatus(peer, ok);
    }
  }

  private boolean streamSnapshot(Message.InstallSnapshot m) throws InterruptedException {
    Snapshot snap = m.snapshot();
    byte[] data = snap.data();
    CRC32C crc = new CRC32C();
    crc.update(data);
    RaftMessage header = MessageCodec.encode(new Message.InstallSnapshot(m.from(), m.to(), m.term(),
        new Snapshot(snap.index(), snap.term(), snap.confState(), new byte[0])));
    CompletableFuture<SnapshotReceipt> done = new CompletableFuture<>();
    Object ready = new Object();
    ClientResponseObserver<SnapshotChunk, SnapshotReceipt> observer = new ClientResponseObserver<>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<SnapshotChunk> requestStream) {
        requestStream.setOnReadyHandler(() -> {
          synchronized (ready) {
            ready.notifyAll();
          }
        });
      }

      @Override
      public void onNext(SnapshotReceipt value) {
        done.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        done.completeExceptionally(t);
        synchronized (ready) {
          ready.notifyAll();
        }
      }

      @Override
      public void onCompleted() {
        done.completeExceptionally(new IllegalStateException("peer answered without a receipt"));
      }
    };
    long deadline = System.nanoTime() + options.snapshotTimeout().toNanos();
    ClientCallStreamObserver<SnapshotChunk> call = (ClientCallStreamObserver<SnapshotChunk>)
        stub.withDeadlineAfter(options.snapshotTimeout().toNanos(), TimeUnit.NANOSECONDS).sendSnapshot(observer);
    int offset = 0;
    boolean first = true;
    while (first || offset < data.length) {
      synchronized (ready) {
        while (!call.isReady() && !done.isDone() && !closed) {
          if (System.nanoTime() > deadline) {
            call.cancel("snapshot timed out", null);
            return false;
          }
          ready.wait(100);
        }
      }
      if (done.isDone() || closed) {
        break;
      }
      int n = Math.min(options.snapshotChunkBytes(), data.length - offset);
      SnapshotChunk.Builder chunk = SnapshotChunk.newBuilder()
          .setData(UnsafeByteOperations.unsafeWrap(data, offset, n));
      if (first) {
        chunk.setHeader(header).setTotalBytes(data.length).setCrc32C((int) crc.getValue());
      }
      call.onNext(chunk.build());
      offset += n;
      first = false;
    }
    if (closed) {
      call.cancel("transport closing", null);
      return false;
    }
    if (!done.isDone()) {
      call.onCompleted();
    }
    try {
      SnapshotReceipt receipt = done.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      LOG.info("member {}: snapshot {} delivered to member {} ({} bytes)", self, snap, peer, receipt.getReceivedBytes());
      return true;
    } catch (java.util.concurrent.ExecutionException e) {
      LOG.warn("member {}: member {} did not take snapshot {}: {}", self, peer, snap, Status.fromThrowable(e.getCause()));
      return false;
    } catch (java.util.concurrent.TimeoutException e) {
      call.cancel("snapshot timed out", null);
      LOG.warn("member {}: snapshot {} to member {} timed out", self, snap, peer);
      return false;
    }
  }

  // ---- shutdown -------------------------------------------------------------------------------

  void close() {
    closed = true;
    thread.interrupt();
    snapshots.shutdownNow();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (lock) {
      if (stream != null) {
        try {
          stream.onCompleted();
        } catch (RuntimeException ignored) {
          // already failed
        }
        stream = null;
      }
      up = false;
      queue.clear();
      lock.notifyAll();
    }
  }
}
