package dev.flotilla.raft.sim;

import dev.flotilla.raft.core.ReadOnlyOption;

/**
 * Knobs of a simulated cluster.
 *
 * @param tickMicros simulated time between two ticks of a member
 * @param snapshotEvery a member snapshots once it has applied this many entries past its last snapshot (0 = never)
 * @param keepAfterSnapshot entries kept in the log behind a snapshot, so a slightly lagging follower needs no snapshot
 * @param fsyncMinMicros lower bound of the simulated time a Ready takes to reach the disk
 */
public record SimOptions(
    int electionTick,
    int heartbeatTick,
    long tickMicros,
    boolean preVote,
    boolean checkQuorum,
    ReadOnlyOption readOnlyOption,
    long maxSizePerMsg,
    int maxInflightMsgs,
    long maxInflightBytes,
    int snapshotEvery,
    int keepAfterSnapshot,
    long fsyncMinMicros,
    long fsyncMaxMicros) {

  public static SimOptions defaults() {
    return new SimOptions(10, 1, 10_000, true, true, ReadOnlyOption.SAFE, 1 << 20, 64, 0, 0, 5, 100, 1_000);
  }

  public SimOptions withTicks(int election, int heartbeat) {
    return new SimOptions(election, heartbeat, tickMicros, preVote, checkQuorum, readOnlyOption, maxSizePerMsg,
        maxInflightMsgs, maxInflightBytes, snapshotEvery, keepAfterSnapshot, fsyncMinMicros, fsyncMaxMicros);
  }

  public SimOptions withPreVote(boolean on) {
    return new SimOptions(electionTick, heartbeatTick, tickMicros, on, checkQuorum, readOnlyOption, maxSizePerMsg,
        maxInflightMsgs, maxInflightBytes, snapshotEvery, keepAfterSnapshot, fsyncMinMicros, fsyncMaxMicros);
  }

  public SimOptions withCheckQuorum(boolean on) {
    return new SimOptions(electionTick, heartbeatTick, tickMicros, preVote, on, readOnlyOption, maxSizePerMsg,
        maxInflightMsgs, maxInflightBytes, snapshotEvery, keepAfterSnapshot, fsyncMinMicros, fsyncMaxMicros);
  }

  public SimOptions withReadOnlyOption(ReadOnlyOption option) {
    return new SimOptions(electionTick, heartbeatTick, tickMicros, preVote, checkQuorum, option, maxSizePerMsg,
        maxInflightMsgs, maxInflightBytes, snapshotEvery, keepAfterSnapshot, fsyncMinMicros, fsyncMaxMicros);
  }

  public SimOptions withFlowControl(long sizePerMsg, int inflightMsgs, long inflightBytes) {
    return new SimOptions(electionTick, heartbeatTick, tickMicros, preVote, checkQuorum, readOnlyOption, sizePerMsg,
        inflightMsgs, inflightBytes, snapshotEvery, keepAfterSnapshot, fsyncMinMicros, fsyncMaxMicros);
  }

  public SimOptions withSnapshots(int every, int keep) {
    return new SimOptions(electionTick, heartbeatTick, tickMicros, preVote, checkQuorum, readOnlyOption, maxSizePerMsg,
        maxInflightMsgs, maxInflightBytes, every, keep, fsyncMinMicros, fsyncMaxMicros);
  }
}
