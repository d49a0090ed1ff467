package dev.flotilla.raft.node;

import dev.flotilla.raft.core.RaftConfig;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a {@link RaftNode}.
 *
 * @param raft the core's settings (election and heartbeat are counted in ticks of {@code tick})
 * @param tick how long one tick lasts
 * @param snapshotEvery take a snapshot once this many entries were applied since the last one (0 = never)
 * @param keepAfterSnapshot entries kept in the log behind a snapshot, so that a follower lagging by
 *     less catches up from the log rather than by snapshot
 */
public record RaftNodeOptions(RaftConfig raft, Duration tick, long snapshotEvery, long keepAfterSnapshot) {

  public RaftNodeOptions {
    Objects.requireNonNull(raft, "raft");
    if (tick.isNegative() || tick.isZero()) {
      throw new IllegalArgumentException("tick must be > 0, got " + tick);
    }
    if (snapshotEvery < 0 || keepAfterSnapshot < 0) {
      throw new IllegalArgumentException("snapshotEvery and keepAfterSnapshot must be >= 0");
    }
  }

  /** One tick per 100 ms (etcd's heartbeat interval; election after 1-2 s with the core's defaults), no snapshots. */
  public static RaftNodeOptions of(RaftConfig raft) {
    return new RaftNodeOptions(raft, Duration.ofMillis(100), 0, 0);
  }

  public RaftNodeOptions withTick(Duration d) {
    return new RaftNodeOptions(raft, d, snapshotEvery, keepAfterSnapshot);
  }

  public RaftNodeOptions withSnapshots(long every, long keepAfter) {
    return new RaftNodeOptions(raft, tick, every, keepAfter);
  }
}
