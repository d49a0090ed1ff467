package dev.flotilla.raft.transport;

import java.time.Duration;

/**
 * Tuning of a {@link GrpcTransport}.
 *
 * @param queueMessages messages waiting for one peer's stream, at most; beyond that they are dropped
 *     and the peer reported unreachable (etcd's stream buffer is 4096 too)
 * @param maxBatchBytes encoded bytes per stream frame; a batch stops growing past it (one message
 *     always goes, whatever its size)
 * @param maxInboundBytes largest frame accepted from a peer; must exceed maxBatchBytes plus the
 *     largest single message (entries of maxSizePerMsg)
 * @param snapshotChunkBytes bytes of snapshot data per chunk of the snapshot call
 * @param maxSnapshotBytes largest snapshot accepted from a peer (it is reassembled in memory)
 * @param snapshotTimeout the whole snapshot call, from first chunk to the receiver's answer
 * @param reconnectMin first wait before reopening a failed stream; doubles on each failure
 * @param reconnectMax longest wait before reopening a failed stream
 * @param eventLoops event loops of the transport's own (its server's and its channels'); 0 shares
 *     gRPC's default group (twice the cores). A member that shares its host's cores with others
 *     wants fewer: each peer connection is bound to one loop, and with more loops than cores the
 *     frames of a round wake several loops instead of one
 */
public record GrpcTransportOptions(
    int queueMessages,
    int maxBatchBytes,
    int maxInboundBytes,
    int snapshotChunkBytes,
    long maxSnapshotBytes,
    Duration snapshotTimeout,
    Duration reconnectMin,
    Duration reconnectMax,
    int eventLoops) {

  public GrpcTransportOptions {
    if (queueMessages < 1 || maxBatchBytes < 1 || snapshotChunkBytes < 1 || maxSnapshotBytes < 1) {
      throw new IllegalArgumentException("queue, batch, chunk and snapshot sizes must be >= 1");
    }
    if (maxInboundBytes < maxBatchBytes || maxInboundBytes < snapshotChunkBytes + 4096) {
      throw new IllegalArgumentException("maxInboundBytes " + maxInboundBytes
          + " must exceed maxBatchBytes and snapshotChunkBytes");
    }
    if (maxSnapshotBytes > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("maxSnapshotBytes must fit a Java array, got " + maxSnapshotBytes);
    }
    if (reconnectMin.isNegative() || reconnectMin.isZero() || reconnectMax.compareTo(reconnectMin) < 0) {
      throw new IllegalArgumentException("need 0 < reconnectMin <= reconnectMax");
    }
    if (eventLoops < 0) {
      throw new IllegalArgumentException("eventLoops must be >= 0 (0: gRPC's shared group), got " + eventLoops);
    }
  }

  public static GrpcTransportOptions defaults() {
    return new GrpcTransportOptions(4096, 4 << 20, 64 << 20, 1 << 20, 1L << 30, Duration.ofMinutes(2),
        Duration.ofMillis(50), Duration.ofSeconds(1), 0);
  }

  public GrpcTransportOptions withQueueMessages(int n) {
    return new GrpcTransportOptions(n, maxBatchBytes, maxInboundBytes, snapshotChunkBytes, maxSnapshotBytes,
        snapshotTimeout, reconnectMin, reconnectMax, eventLoops);
  }

  public GrpcTransportOptions withSnapshotChunkBytes(int n) {
    return new GrpcTransportOptions(queueMessages, maxBatchBytes, maxInboundBytes, n, maxSnapshotBytes,
        snapshotTimeout, reconnectMin, reconnectMax, eventLoops);
  }

  public GrpcTransportOptions withMaxSnapshotBytes(long n) {
    return new GrpcTransportOptions(queueMessages, maxBatchBytes, maxInboundBytes, snapshotChunkBytes, n,
        snapshotTimeout, reconnectMin, reconnectMax, eventLoops);
  }

  public GrpcTransportOptions withMaxBatchBytes(int n) {
    return new GrpcTransportOptions(queueMessages, n, maxInboundBytes, snapshotChunkBytes, maxSnapshotBytes,
        snapshotTimeout, reconnectMin, reconnectMax, eventLoops);
  }

  public GrpcTransportOptions withMaxInboundBytes(int n) {
    return new GrpcTransportOptions(queueMessages, maxBatchBytes, n, snapshotChunkBytes, maxSnapshotBytes,
        snapshotTimeout, reconnectMin, reconnectMax, eventLoops);
  }

  public GrpcTransportOptions withReconnect(Duration min, Duration max) {
    return new GrpcTransportOptions(queueMessages, maxBatchBytes, maxInboundBytes, snapshotChunkBytes, maxSnapshotBytes,
        snapshotTimeout, min, max, eventLoops);
  }

  public GrpcTransportOptions withEventLoops(int n) {
    return new GrpcTransportOptions(queueMessages, maxBatchBytes, maxInboundBytes, snapshotChunkBytes, maxSnapshotBytes,
        snapshotTimeout, reconnectMin, reconnectMax, n);
  }
}
