package dev.flotilla.raft.transport;

import dev.flotilla.raft.core.Message;
import java.util.List;
import java.util.Set;

/**
 * Carries Raft messages between members, identified by member id. Implementations:
 * {@link GrpcTransport} (gRPC streams between processes), {@link LocalTransport} (in memory, for
 * tests of code above Raft).
 *
 * <p>Delivery is best effort, as Raft expects: a message may be lost (never duplicated by the
 * transport, and in order per sender and receiver on the message stream), and the sender learns of
 * trouble through {@link Handler#unreachable} and {@link Handler#snapshotStatus}.
 */
public interface Transport extends AutoCloseable {

  /**
   * What a transport tells the member that owns it. Called on transport threads, possibly several at
   * once: implementations must be thread-safe and must not block (hand the work to the Raft loop).
   */
  interface Handler {

    /** A message from a member in the peer set, addressed to this member. */
    void receive(Message message);

    /** Messages to {@code peer} are being dropped (queue full, or no stream): tell the core to probe. */
    void unreachable(long peer);

    /** A snapshot sent to {@code peer} was handed to its Raft ({@code true}) or failed to get there. */
    void snapshotStatus(long peer, boolean delivered);

    /**
     * {@code peer} refused us because this member was removed from the cluster (the application
     * told that peer's transport so with {@code removedMembers}): stop. Nothing by default.
     */
    default void removedFromCluster(long peer) {}
  }

  /**
   * Queues messages for their recipients and returns at once. Messages to a member not in the peer
   * set are dropped; so are messages that find the recipient's queue full or its stream down, which
   * is reported with {@link Handler#unreachable}. An {@link Message.InstallSnapshot} travels on its
   * own path and is reported with {@link Handler#snapshotStatus}.
   */
  void send(List<Message> messages);

  /** Adds (or re-addresses) a member that may send to and receive from this one. */
  void addPeer(long id, String address);

  /** Forgets a member: nothing more is sent to it, and its messages are refused from now on. */
  void removePeer(long id);

  Set<Long> peers();

  /** Stops sending and receiving and releases threads and sockets. */
  @Override
  void close();
}
