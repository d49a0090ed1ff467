package dev.flotilla.scheduler.engine;

/**
 * The deterministic twin of the engine lease: one holder, an expiry on the caller's clock, an
 * epoch that grows with each new holder. Thread-safe.
 */
public final class MemoryEngineLease implements EngineLease {

  private final long ttlNanos;
  private String holder;
  private long epoch;
  private long expiresAt;

  public MemoryEngineLease(long ttlNanos) {
    if (ttlNanos <= 0) {
      throw new IllegalArgumentException("lease TTL must be positive, got " + ttlNanos + " ns");
    }
    this.ttlNanos = ttlNanos;
  }

  @Override
  public synchronized LeaseStatus tryAcquire(String candidate, long nowNanos) {
    boolean free = holder == null || nowNanos - expiresAt >= 0;
    if (free && !candidate.equals(holder)) {
      holder = candidate;
      epoch++;
    } else if (free) {
      epoch++; // its own lease lapsed: a new term, whatever it did in between is suspect
    }
    if (candidate.equals(holder)) {
      expiresAt = nowNanos + ttlNanos;
    }
    return new LeaseStatus(holder, epoch, expiresAt);
  }

  @Override
  public synchronized void release(String candidate) {
    if (candidate.equals(holder)) {
      holder = null;
    }
  }

  @Override
  public long ttlNanos() {
    return ttlNanos;
  }

  /** The current holder, or null. */
  public synchronized String holder() {
    return holder;
  }
}
