package dev.flotilla.kv.client;

import java.util.concurrent.CompletableFuture;

/**
 * Keeps a lease alive (renewed about every third of its TTL) until {@link #close()}d; the
 * lease then runs out its TTL unless revoked.
 */
public interface KeepAlive extends AutoCloseable {
  long leaseId();

  /**
   * Completes, with the reason, when the store says the lease is gone (expired or revoked) or
   * keeping it alive failed for good. Never completes because of {@link #close()}.
   */
  CompletableFuture<StoreException> lost();

  @Override
  void close();

  /** When to renew a lease the store just granted {@code ttlSeconds} more: a third of it, at least 0.5 s. */
  static long renewDelayMillis(long ttlSeconds) {
    return Math.max(500, ttlSeconds * 1000 / 3);
  }
}
