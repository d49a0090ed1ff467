package dev.flotilla.raft.transport;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counters of one transport, totals over all peers since it started.
 *
 * @param messagesSent messages handed to a stream (not necessarily received)
 * @param batchesSent stream frames those messages travelled in
 * @param messagesDropped messages dropped before sending (queue full, stream down, unknown peer)
 * @param messagesReceived messages accepted and handed to the handler
 * @param batchesReceived frames those messages came in
 * @param callsRefused incoming calls or streams refused (unknown or removed member, wrong recipient, bad message)
 * @param snapshotsSent snapshots the receiver confirmed
 * @param snapshotsReceived snapshots reassembled, verified and handed to the handler
 * @param snapshotsRejected incoming snapshots refused (checksum or size mismatch)
 */
public record TransportStats(
    long messagesSent,
    long batchesSent,
    long messagesDropped,
    long messagesReceived,
    long batchesReceived,
    long callsRefused,
    long snapshotsSent,
    long snapshotsReceived,
    long snapshotsRejected) {

  /** The live counters behind a {@link TransportStats}. */
  static final class Counters {
    final AtomicLong messagesSent = new AtomicLong();
    final AtomicLong batchesSent = new AtomicLong();
    final AtomicLong messagesDropped = new AtomicLong();
    final AtomicLong messagesReceived = new AtomicLong();
    final AtomicLong batchesReceived = new AtomicLong();
    final AtomicLong callsRefused = new AtomicLong();
    final AtomicLong snapshotsSent = new AtomicLong();
    final AtomicLong snapshotsReceived = new AtomicLong();
    final AtomicLong snapshotsRejected = new AtomicLong();

    TransportStats snapshot() {
      return new TransportStats(messagesSent.get(), batchesSent.get(), messagesDropped.get(), messagesReceived.get(),
          batchesReceived.get(), callsRefused.get(), snapshotsSent.get(), snapshotsReceived.get(),
          snapshotsRejected.get());
    }
  }
}
