package dev.flotilla.raft.core;

/** How a leader answers {@link RawNode#readIndex}. */
public enum ReadOnlyOption {
  /** Confirm leadership with a heartbeat round to a quorum before answering (ReadIndex). */
  SAFE,
  /**
   * Answer from the leader's lease without a round trip. Only safe with check-quorum on and with
   * clocks that tick at the same rate on every member; a member that crashes and restarts forgets
   * the lease it granted, so a restart inside the lease can make a read stale.
   */
  LEASE_BASED
}
