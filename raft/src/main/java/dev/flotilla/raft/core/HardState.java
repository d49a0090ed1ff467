package dev.flotilla.raft.core;

/**
 * What a member must persist before sending any message that depends on it: its current term,
 * whom it voted for in that term (0 = nobody) and the commit index it knows.
 */
public record HardState(long term, long vote, long commit) {

  public static final HardState EMPTY = new HardState(0, 0, 0);

  public HardState {
    if (term < 0 || commit < 0) { // vote is a member id: unsigned, any bit pattern
      throw new IllegalArgumentException("hard state term and commit must be >= 0, got " + term + "/" + vote + "/" + commit);
    }
  }
}
