package dev.flotilla.raft.core;

/**
 * The leader's view of one follower (etcd's tracker.Progress).
 *
 * <ul>
 *   <li>PROBE: we do not know where the follower's log matches; send one append at a time and
 *       wait for its answer (or a heartbeat response) before the next.</li>
 *   <li>REPLICATE: the follower is in step; stream appends optimistically, up to the in-flight
 *       bounds.</li>
 *   <li>SNAPSHOT: the follower needs entries we compacted; a snapshot is on its way and nothing
 *       else is sent until it is acknowledged or given up on.</li>
 * </ul>
 */
public final class Progress {

  /** Replication state of one follower. */
  public enum State { PROBE, REPLICATE, SNAPSHOT }

  long match;
  long next;
  State state = State.PROBE;
  /** In PROBE: an append is out and unanswered, so hold further appends. */
  boolean msgAppFlowPaused;
  /** In SNAPSHOT: the index of the snapshot sent. */
  long pendingSnapshot;
  /** Ticks spent in SNAPSHOT; after an election timeout the snapshot is presumed lost. */
  int snapshotTicks;
  /** Heard from since the last check-quorum round. */
  boolean recentActive;
  boolean learner;
  /** The commit index this follower was last sent (in an append, or a heartbeat's). */
  long commitSent;
  /** The first of the entries this follower forwarded that it has not been told are committed; 0 if none. */
  long forwardedFirst;
  /** The last entry this follower forwarded. */
  long forwardedLast;
  final Inflights inflights;

  Progress(long next, int maxInflightMsgs, long maxInflightBytes, boolean learner) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
    this.learner = learner;
  }

  public long match() {
    return match;
  }

  public long next() {
    return next;
  }

  public State state() {
    return state;
  }

  public boolean isLearner() {
    return learner;
  }

  private void resetState(State s) {
    msgAppFlowPaused = false;
    pendingSnapshot = 0;
    snapshotTicks = 0;
    state = s;
    inflights.reset();
  }

  void becomeProbe() {
    if (state == State.SNAPSHOT) {
      long ps = pendingSnapshot;
      resetState(State.PROBE);
      next = Math.max(match + 1, ps + 1);
    } else {
      resetState(State.PROBE);
      next = match + 1;
    }
  }

  void becomeReplicate() {
    resetState(State.REPLICATE);
    next = match + 1;
  }

  void becomeSnapshot(long snapshotIndex) {
    resetState(State.SNAPSHOT);
    pendingSnapshot = snapshotIndex;
    next = snapshotIndex + 1;
  }

  /** Records that an append of {@code entries} entries ({@code bytes} bytes) went out. */
  void sentEntries(int entries, long bytes) {
    if (state == State.REPLICATE) {
      if (entries > 0) {
        next += entries;
        inflights.add(next - 1, bytes);
      }
    } else if (state == State.PROBE) {
      if (entries > 0) {
        msgAppFlowPaused = true;
      }
    } else {
      throw new IllegalStateException("sending entries in state " + state);
    }
  }

  /** The follower acknowledged up to {@code n}; returns whether that was news. */
  boolean maybeUpdate(long n) {
    if (n <= match) {
      return false;
    }
    match = n;
    next = Math.max(next, n + 1);
    msgAppFlowPaused = false;
    return true;
  }

  /**
   * The follower rejected an append at {@code rejected}; its log may match at {@code matchHint}.
   * Returns false for a stale rejection (one answering an append we have since moved past).
   */
  boolean maybeDecrTo(long rejected, long matchHint) {
    if (state == State.REPLICATE) {
      if (rejected <= match) {
        return false;
      }
      next = match + 1;
      return true;
    }
    if (next - 1 != rejected) {
      return false;
    }
    next = Math.max(Math.min(rejected, matchHint + 1), match + 1);
    msgAppFlowPaused = false;
    return true;
  }

  boolean isPaused() {
    return switch (state) {
      case PROBE -> msgAppFlowPaused;
      case REPLICATE -> inflights.full();
      case SNAPSHOT -> true;
    };
  }

  @Override
  public String toString() {
    return state + " match=" + match + " next=" + next + (learner ? " learner" : "")
        + (state == State.SNAPSHOT ? " snap=" + pendingSnapshot : "") + (msgAppFlowPaused ? " paused" : "");
  }
}
