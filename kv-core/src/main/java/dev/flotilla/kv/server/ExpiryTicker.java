package dev.flotilla.kv.server;

import dev.flotilla.proto.store.StoreCommand;
import dev.flotilla.proto.store.V2Expire;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * Decides when v2 TTLs run out: when the earliest expiry has passed it proposes one
 * {@code V2Expire(now)} command through the log (so every replica removes the same nodes at
 * the same index), as etcd's leader proposes SYNC. {@link #poll(long)} is driven by a thin
 * thread in {@link StoreMember}.
 */
final class ExpiryTicker {
  /** etcd checks every 500 ms; a key never lives longer than that past its TTL here either. */
  static final long MAX_WAIT_NANOS = 500_000_000L;

  private final CommandLog log;
  private final LongSupplier nextExpiry;
  private CompletableFuture<ApplyOutcome> inFlight;

  ExpiryTicker(CommandLog log, LongSupplier nextExpiry) {
    this.log = log;
    this.nextExpiry = nextExpiry;
  }

  /** Acts at wall-clock {@code nowNanos}; returns the wall-clock instant to be polled again. */
  long poll(long nowNanos) {
    if (inFlight != null && !inFlight.isDone()) {
      return nowNanos + 10_000_000L;
    }
    long next = nextExpiry.getAsLong();
    if (next <= nowNanos) {
      byte[] cmd = StoreCommand.newBuilder()
          .setV2Expire(V2Expire.newBuilder().setNowUnixNanos(nowNanos)).build().toByteArray();
      inFlight = log.propose(cmd);
      return nowNanos + 10_000_000L;
    }
    return Math.min(next, nowNanos + MAX_WAIT_NANOS);
  }
}
