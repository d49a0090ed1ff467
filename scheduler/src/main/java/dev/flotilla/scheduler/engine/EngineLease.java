package dev.flotilla.scheduler.engine;

/**
 * The engine leader's lease: whoever holds it is the only engine that schedules.
 * {@link StoreEngineLease} keeps it in the store (a leader key on a store lease);
 * {@link MemoryEngineLease} is the deterministic twin.
 *
 * <p>A holder renews well inside the TTL; a candidate that finds the lease held retries at the
 * holder's expiry, so a new leader takes over within one TTL of the old one's last renewal.
 */
public interface EngineLease {

  /**
   * Takes the lease for {@code candidate} if it is free or expired, renews it if {@code candidate}
   * holds it, and says who holds it after the attempt.
   */
  LeaseStatus tryAcquire(String candidate, long nowNanos);

  /** Gives the lease up at once if {@code candidate} holds it (a clean shutdown). */
  void release(String candidate);

  /** How long a lease lasts after its last renewal. */
  long ttlNanos();

  /**
   * Whether this lease tells a candidate that found it held when the holder may have changed
   * ({@link #holderMayHaveChanged}): such a candidate tries again only then or at the holder's
   * expiry, instead of also every safety pass interval.
   */
  default boolean watchesHolder() {
    return false;
  }

  /**
   * Whether the holder is known to have changed since the last {@link #tryAcquire} (released,
   * expired or taken over); false when not watched ({@link #watchesHolder} false): a candidate
   * then waits for its retry time.
   */
  default boolean holderMayHaveChanged() {
    return false;
  }

  /**
   * Who holds the lease: {@code epoch} grows with every new holder (a renewal keeps it), and
   * {@code expiresAtNanos} is when it lapses without a renewal.
   */
  record LeaseStatus(String holder, long epoch, long expiresAtNanos) {
    public boolean heldBy(String candidate) {
      return holder.equals(candidate);
    }
  }
}
