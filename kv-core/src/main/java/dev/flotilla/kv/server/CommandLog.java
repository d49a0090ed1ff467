package dev.flotilla.kv.server;

import java.util.concurrent.CompletableFuture;

/**
 * Where store commands are ordered and made durable before they are applied: the local WAL
 * on one node ({@link LocalLog}), the Raft log in a cluster.
 */
public interface CommandLog extends AutoCloseable {
  /** Appends a command; completes once it is durable and applied, with its outcome. */
  CompletableFuture<ApplyOutcome> propose(byte[] command);

  /** Completes when every command committed before this call has been applied (ReadIndex). */
  CompletableFuture<Void> readBarrier();

  long committedIndex();

  long term();

  /** Whether this member leads: only the leader decides that TTLs and leases ran out. */
  default boolean isLeader() {
    return true;
  }

  /** The leader's member ID, 0 when none is known (a single node: 0, meaning itself). */
  default long leader() {
    return 0;
  }

  @Override
  void close();
}
