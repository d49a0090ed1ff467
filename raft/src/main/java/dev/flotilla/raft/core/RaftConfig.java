package dev.flotilla.raft.core;

import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Settings of one member. Times are in ticks: the application decides how long a tick is.
 *
 * @param id this member's id, > 0
 * @param electionTick a follower that hears no leader for a randomized [electionTick, 2*electionTick) ticks campaigns
 * @param heartbeatTick a leader sends heartbeats every heartbeatTick ticks; must be < electionTick
 * @param maxSizePerMsg bytes of entries per append message (at least one entry is always sent)
 * @param maxInflightMsgs appends sent to one follower and not yet acknowledged, at most
 * @param maxInflightBytes bytes sent to one follower and not yet acknowledged, at most (0 = no bound)
 * @param preVote campaign only after a pre-vote round shows a quorum would vote for us
 * @param checkQuorum a leader that has not heard from a quorum for electionTick ticks steps down,
 *     and followers that heard from a leader within electionTick ticks refuse votes (leader lease)
 * @param readOnlyOption how ReadIndex requests are answered
 * @param applied the index the application has already applied after a restart (0 = snapshot index)
 * @param random the source of election-timeout jitter; seed it in tests
 * @param deferCommitNotice when the leader's commit index moves, a follower with no new entries to
 *     receive hears of it with the next append or heartbeat, or when the application calls
 *     {@link RawNode#announceCommit}, instead of at once in an empty append (etcd's way, the
 *     default); a follower whose forwarded proposals just committed is told at once
 */
public record RaftConfig(
    long id,
    int electionTick,
    int heartbeatTick,
    long maxSizePerMsg,
    int maxInflightMsgs,
    long maxInflightBytes,
    boolean preVote,
    boolean checkQuorum,
    ReadOnlyOption readOnlyOption,
    long applied,
    RandomGenerator random,
    boolean deferCommitNotice) {

  public RaftConfig {
    Objects.requireNonNull(readOnlyOption, "readOnlyOption");
    Objects.requireNonNull(random, "random");
    if (id == 0) {
      throw new IllegalArgumentException("member id must not be 0 (ids are unsigned 64-bit, 0 means none), got " + id);
    }
    if (heartbeatTick <= 0 || electionTick <= heartbeatTick) {
      throw new IllegalArgumentException("need 0 < heartbeatTick < electionTick, got heartbeatTick=" + heartbeatTick
          + " electionTick=" + electionTick);
    }
    if (maxInflightMsgs <= 0) {
      throw new IllegalArgumentException("maxInflightMsgs must be > 0, got " + maxInflightMsgs);
    }
    if (maxSizePerMsg <= 0 || maxInflightBytes < 0) {
      throw new IllegalArgumentException("maxSizePerMsg must be > 0 and maxInflightBytes >= 0, got "
          + maxSizePerMsg + "/" + maxInflightBytes);
    }
    if (readOnlyOption == ReadOnlyOption.LEASE_BASED && !checkQuorum) {
      throw new IllegalArgumentException("lease-based reads need checkQuorum=true");
    }
    if (applied < 0) {
      throw new IllegalArgumentException("applied must be >= 0, got " + applied);
    }
  }

  /** etcd's defaults: election 10 ticks, heartbeat 1, 1 MiB per message, 256 in flight, pre-vote and check-quorum on. */
  public static RaftConfig defaults(long id, RandomGenerator random) {
    return new RaftConfig(id, 10, 1, 1 << 20, 256, 0, true, true, ReadOnlyOption.SAFE, 0, random, false);
  }

  public RaftConfig withTicks(int election, int heartbeat) {
    return new RaftConfig(id, election, heartbeat, maxSizePerMsg, maxInflightMsgs, maxInflightBytes, preVote,
        checkQuorum, readOnlyOption, applied, random, deferCommitNotice);
  }

  public RaftConfig withFlowControl(long sizePerMsg, int inflightMsgs, long inflightBytes) {
    return new RaftConfig(id, electionTick, heartbeatTick, sizePerMsg, inflightMsgs, inflightBytes, preVote,
        checkQuorum, readOnlyOption, applied, random, deferCommitNotice);
  }

  public RaftConfig withPreVote(boolean on) {
    return new RaftConfig(id, electionTick, heartbeatTick, maxSizePerMsg, maxInflightMsgs, maxInflightBytes, on,
        checkQuorum, readOnlyOption, applied, random, deferCommitNotice);
  }

  public RaftConfig withCheckQuorum(boolean on) {
    return new RaftConfig(id, electionTick, heartbeatTick, maxSizePerMsg, maxInflightMsgs, maxInflightBytes, preVote,
        on, readOnlyOption, applied, random, deferCommitNotice);
  }

  public RaftConfig withReadOnlyOption(ReadOnlyOption option) {
    return new RaftConfig(id, electionTick, heartbeatTick, maxSizePerMsg, maxInflightMsgs, maxInflightBytes, preVote,
        checkQuorum, option, applied, random, deferCommitNotice);
  }

  public RaftConfig withDeferCommitNotice(boolean on) {
    return new RaftConfig(id, electionTick, heartbeatTick, maxSizePerMsg, maxInflightMsgs, maxInflightBytes, preVote,
        checkQuorum, readOnlyOption, applied, random, on);
  }

  public RaftConfig withApplied(long index) {
    return new RaftConfig(id, electionTick, heartbeatTick, maxSizePerMsg, maxInflightMsgs, maxInflightBytes, preVote,
        checkQuorum, readOnlyOption, index, random, deferCommitNotice);
  }
}
