package dev.flotilla.raft.core;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The membership in effect on this member, the leader's {@link Progress} per member, and the votes
 * of the current election, with the quorum arithmetic over them.
 */
final class ProgressTracker {

  /** Outcome of counting votes. */
  enum VoteResult { PENDING, WON, LOST }

  private final int maxInflightMsgs;
  private final long maxInflightBytes;
  ConfState conf = ConfState.EMPTY;
  /** Sorted by id, so iteration (and hence message order) is deterministic. */
  final TreeMap<Long, Progress> progress = new TreeMap<>();
  final Map<Long, Boolean> votes = new HashMap<>();

  ProgressTracker(int maxInflightMsgs, long maxInflightBytes) {
    this.maxInflightMsgs = maxInflightMsgs;
    this.maxInflightBytes = maxInflightBytes;
  }

  /** Switches to {@code cs}, keeping progress of members that stay and starting it for new ones at {@code next}. */
  void setConf(ConfState cs, long next) {
    this.conf = cs;
    progress.keySet().removeIf(id -> !cs.isMember(id));
    for (long id : cs.voters()) {
      Progress pr = progress.computeIfAbsent(id, k -> newProgress(next, false));
      pr.learner = false;
    }
    for (long id : cs.learners()) {
      progress.computeIfAbsent(id, k -> newProgress(next, true)).learner = true;
    }
  }

  private Progress newProgress(long next, boolean learner) {
    Progress pr = new Progress(next, maxInflightMsgs, maxInflightBytes, learner);
    // a member just added gets a grace period before check-quorum counts it as silent
    pr.recentActive = true;
    return pr;
  }

  /** Resets every progress for a new term: nothing known matched, next after our last index. */
  void resetProgress(long selfId, long lastIndex) {
    for (Map.Entry<Long, Progress> e : progress.entrySet()) {
      Progress pr = new Progress(lastIndex + 1, maxInflightMsgs, maxInflightBytes, e.getValue().learner);
      if (e.getKey() == selfId) {
        pr.match = lastIndex;
      }
      e.setValue(pr);
    }
  }

  boolean isVoter(long id) {
    return conf.isVoter(id);
  }

  private int quorum() {
    return conf.voters().size() / 2 + 1;
  }

  /** The largest index a quorum of voters has matched. */
  long committedIndex() {
    int n = conf.voters().size();
    if (n == 0) {
      return 0;
    }
    long[] matched = new long[n];
    int i = 0;
    for (long id : conf.voters()) {
      Progress pr = progress.get(id);
      matched[i++] = pr == null ? 0 : pr.match;
    }
    Arrays.sort(matched);
    return matched[n - quorum()];
  }

  void resetVotes() {
    votes.clear();
  }

  void recordVote(long id, boolean granted) {
    votes.putIfAbsent(id, granted);
  }

  VoteResult voteResult() {
    int granted = 0;
    int rejected = 0;
    for (long id : conf.voters()) {
      Boolean v = votes.get(id);
      if (v == null) {
        continue;
      }
      if (v) {
        granted++;
      } else {
        rejected++;
      }
    }
    int q = quorum();
    if (granted >= q) {
      return VoteResult.WON;
    }
    int missing = conf.voters().size() - granted - rejected;
    return granted + missing >= q ? VoteResult.PENDING : VoteResult.LOST;
  }

  /** Whether a quorum of voters was recently active (self included). */
  boolean quorumActive(long selfId) {
    int active = 0;
    for (long id : conf.voters()) {
      Progress pr = progress.get(id);
      if (id == selfId || (pr != null && pr.recentActive)) {
        active++;
      }
    }
    return active >= quorum();
  }

  /** Whether a quorum of voters is among {@code acks}. */
  boolean hasQuorum(java.util.Set<Long> acks) {
    int n = 0;
    for (long id : conf.voters()) {
      if (acks.contains(id)) {
        n++;
      }
    }
    return n >= quorum();
  }
}
