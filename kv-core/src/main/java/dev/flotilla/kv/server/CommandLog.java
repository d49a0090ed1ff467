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

  @Override
  void close();
}
