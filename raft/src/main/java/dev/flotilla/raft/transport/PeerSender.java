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
import java.util.concurrent.ArrayBlockingQueue;
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
  private final ArrayBlockingQueue<Message> queue;
  private final Thread thread;
  private final ExecutorService snapshots;

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
    this.queue = new ArrayBlockingQueue<>(options.queueMessages());
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

  /** Never blocks: queues, or drops and reports. */
  void enqueue(Message m) {
    if (closed) {
      return;
    }
    if (m instanceof Message.InstallSnapshot s) {
      try {
        snapshots.execute(() -> sendSnapshot(s));
      } catch (RejectedExecutionException e) {
        handler.snapshotStatus(peer, false); // closing
      }
      return;
    }
    if (!up || !queue.offer(m)) {
      counters.messagesDropped.incrementAndGet();
      reportUnreachable();
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

  private void run() {
    try {
      while (!closed) {
        ClientCallStreamObserver<MessageBatch> s = currentOrReopen();
        if (s == null) {
          continue;
        }
        Message first = queue.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        if (!awaitReady(s)) {
          dropQueued(first);
          continue;
        }
        MessageBatch batch;
        try {
          batch = collect(first);
        } catch (RuntimeException e) {
          // a message the codec cannot encode is a bug upstream; losing it beats losing the peer
          LOG.error("member {}: cannot encode a message for member {}; dropping it", self, peer, e);
          counters.messagesDropped.incrementAndGet();
          continue;
        }
        try {
          s.onNext(batch);
          counters.batchesSent.incrementAndGet();
          counters.messagesSent.addAndGet(batch.getMessagesCount());
        } catch (RuntimeException e) {
          failed(s, Status.fromThrowable(e));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The first message and whatever else is queued, up to maxBatchBytes. */
  private MessageBatch collect(Message first) {
    MessageBatch.Builder batch = MessageBatch.newBuilder();
    RaftMessage encoded = MessageCodec.encode(first);
    batch.addMessages(encoded);
    long bytes = encoded.getSerializedSize();
    while (bytes < options.maxBatchBytes()) {
      Message next = queue.peek();
      if (next == null) {
        break;
      }
      encoded = MessageCodec.encode(next);
      if (bytes + encoded.getSerializedSize() > options.maxBatchBytes()) {
        break;
      }
      queue.poll();
      batch.addMessages(encoded);
      bytes += encoded.getSerializedSize();
    }
    return batch.build();
  }

  private void dropQueued(Message first) {
    int n = 1 + queue.size();
    queue.clear();
    counters.messagesDropped.addAndGet(n);
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

  /** Waits until {@code s} takes more (flow control); false if it failed or we are closing meanwhile. */
  private boolean awaitReady(ClientCallStreamObserver<MessageBatch> s) throws InterruptedException {
    synchronized (lock) {
      while (!closed && stream == s && !s.isReady()) {
        lock.wait(100);
      }
      if (stream == s && !closed) {
        backoffNanos = options.reconnectMin().toNanos(); // it carried bytes: the peer is there
        failuresLogged = 0;
        return true;
      }
      return false;
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
      lock.notifyAll();
    }
    queue.clear();
  }
}
