package dev.flotilla.raft.wal;

/** Raft's persistent vote state: current term, who we voted for in it (0 = nobody), commit index. */
public record HardState(long term, long vote, long commit) implements WalRecord {

  /** What {@link Wal#hardState()} reports before any hard state was ever saved. */
  public static final HardState EMPTY = new HardState(0, 0, 0);

  public HardState {
    if (term < 0 || commit < 0) { // vote is a member id: unsigned, any bit pattern
      throw new IllegalArgumentException("hard state term and commit must be >= 0, got " + term + "/" + vote + "/" + commit);
    }
  }
}
