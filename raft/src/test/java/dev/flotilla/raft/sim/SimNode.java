package dev.flotilla.raft.sim;

import dev.flotilla.raft.core.MemLogStore;
import dev.flotilla.raft.core.RawNode;
import dev.flotilla.raft.core.Ready;

/**
 * One simulated member: its disk (a {@link MemLogStore} that survives crashes) and, while it runs,
 * the Raft state machine and the application, both lost on a crash.
 */
public final class SimNode {

  final long id;
  final MemLogStore disk;
  RawNode raft;
  SimStateMachine app;
  /** A Ready whose fsync is in flight; lost with a crash. */
  Ready inflight;
  /** Bumped on every crash, so events of an earlier life are ignored. */
  int incarnation;
  /** Shut down for good (removed from the cluster). */
  boolean retired;
  /** Lost its disk (then also retired: its id never comes back). */
  boolean wiped;

  SimNode(long id, MemLogStore disk) {
    this.id = id;
    this.disk = disk;
  }

  public long id() {
    return id;
  }

  public boolean isUp() {
    return raft != null;
  }

  /** The running Raft state machine; null while the member is down. */
  public RawNode raft() {
    return raft;
  }

  public SimStateMachine app() {
    return app;
  }

  public boolean isRetired() {
    return retired;
  }

  public boolean isWiped() {
    return wiped;
  }

  public MemLogStore disk() {
    return disk;
  }
}
