package dev.flotilla.raft.core;

/**
 * A proposal, conf change, read or transfer that this member cannot take now: it is not the leader,
 * a leadership transfer is under way, or another membership change is still pending. Retry later,
 * on {@link #leaderHint()} if it is not 0.
 */
public final class ProposalDroppedException extends RuntimeException {

  private final long leaderHint;

  public ProposalDroppedException(String message, long leaderHint) {
    super(message);
    this.leaderHint = leaderHint;
  }

  /** The member this one believes is leader, 0 when it knows none. */
  public long leaderHint() {
    return leaderHint;
  }
}
