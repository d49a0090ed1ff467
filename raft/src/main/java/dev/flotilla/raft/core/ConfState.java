package dev.flotilla.raft.core;

import java.util.Collection;
import java.util.Collections;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * A membership: the voters, whose majority decides elections and commits, and the learners, who
 * receive the log but neither vote nor count towards a commit. A member is in at most one set.
 */
public record ConfState(SortedSet<Long> voters, SortedSet<Long> learners) {

  public static final ConfState EMPTY = new ConfState(new TreeSet<>(), new TreeSet<>());

  public ConfState {
    voters = Collections.unmodifiableSortedSet(new TreeSet<>(voters));
    learners = Collections.unmodifiableSortedSet(new TreeSet<>(learners));
    for (Long id : voters) {
      if (id == null || id == 0) {
        throw new IllegalArgumentException("member ids must not be 0 (they are unsigned 64-bit), got " + id);
      }
      if (learners.contains(id)) {
        throw new IllegalArgumentException("member " + id + " cannot be both voter and learner");
      }
    }
    for (Long id : learners) {
      if (id == null || id == 0) {
        throw new IllegalArgumentException("member ids must not be 0 (they are unsigned 64-bit), got " + id);
      }
    }
  }

  public static ConfState ofVoters(Collection<Long> voters) {
    return new ConfState(new TreeSet<>(voters), new TreeSet<>());
  }

  public static ConfState ofVoters(long... voters) {
    TreeSet<Long> set = new TreeSet<>();
    for (long v : voters) {
      set.add(v);
    }
    return new ConfState(set, new TreeSet<>());
  }

  public boolean isVoter(long id) {
    return voters.contains(id);
  }

  public boolean isLearner(long id) {
    return learners.contains(id);
  }

  public boolean isMember(long id) {
    return voters.contains(id) || learners.contains(id);
  }

  /** Why {@code change} cannot be applied to this membership, or null when it can. */
  public String rejectReason(ConfChange change) {
    long id = change.nodeId();
    return switch (change.type()) {
      case ADD_VOTER -> voters.contains(id) ? "member " + id + " is already a voter" : null;
      case ADD_LEARNER -> voters.contains(id)
          ? "member " + id + " is a voter; demoting a voter to learner is not supported"
          : learners.contains(id) ? "member " + id + " is already a learner" : null;
      case REMOVE -> !isMember(id) ? "member " + id + " is not in the membership"
          : voters.contains(id) && voters.size() == 1 ? "cannot remove the last voter " + id : null;
    };
  }

  /**
   * This membership with {@code change} applied. A change that {@link #rejectReason} refuses leaves
   * it unchanged: every member applies the same committed entries, so they all skip it alike.
   */
  public ConfState apply(ConfChange change) {
    if (rejectReason(change) != null) {
      return this;
    }
    TreeSet<Long> v = new TreeSet<>(voters);
    TreeSet<Long> l = new TreeSet<>(learners);
    long id = change.nodeId();
    switch (change.type()) {
      case ADD_VOTER -> {
        l.remove(id);
        v.add(id);
      }
      case ADD_LEARNER -> l.add(id);
      case REMOVE -> {
        v.remove(id);
        l.remove(id);
      }
    }
    return new ConfState(v, l);
  }

  @Override
  public String toString() {
    return "voters=" + voters + (learners.isEmpty() ? "" : " learners=" + learners);
  }
}
