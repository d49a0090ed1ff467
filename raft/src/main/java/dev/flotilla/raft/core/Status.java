package dev.flotilla.raft.core;

import java.util.Map;

/**
 * A member's state for monitoring and tests.
 *
 * @param confIndex index of the conf change entry (or snapshot) that produced {@code confState}
 * @param progress the leader's view of each member; empty unless {@code role} is LEADER
 * @param leadTransferee the member leadership is being transferred to, 0 for none
 */
public record Status(
    long id,
    long term,
    long vote,
    long commit,
    long applied,
    long lead,
    Role role,
    ConfState confState,
    long confIndex,
    Map<Long, PeerProgress> progress,
    long leadTransferee) {

  /** The leader's view of one member. */
  public record PeerProgress(long match, long next, Progress.State state, boolean learner) {}
}
