package dev.flotilla.raft.sim;

/** A safety (or, at the end of a schedule, liveness) property of the cluster does not hold. */
public final class InvariantViolation extends RuntimeException {

  public InvariantViolation(String message) {
    super(message);
  }
}
