package dev.flotilla.raft.core;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The legal role changes, in one place. Anything else is a bug in the core and throws.
 *
 * <ul>
 *   <li>follower → follower (a newer term), pre-candidate (election timeout with pre-vote),
 *       candidate (election timeout without pre-vote, or TimeoutNow)</li>
 *   <li>pre-candidate → follower (lost, or saw a leader), pre-candidate (timed out again),
 *       candidate (won the pre-vote)</li>
 *   <li>candidate → follower, pre-candidate or candidate (timed out), leader (won)</li>
 *   <li>leader → follower (newer term, lost the quorum, or removed)</li>
 * </ul>
 */
final class RoleTransitions {

  private static final Map<Role, Set<Role>> LEGAL = new EnumMap<>(Role.class);

  static {
    LEGAL.put(Role.FOLLOWER, EnumSet.of(Role.FOLLOWER, Role.PRE_CANDIDATE, Role.CANDIDATE));
    LEGAL.put(Role.PRE_CANDIDATE, EnumSet.of(Role.FOLLOWER, Role.PRE_CANDIDATE, Role.CANDIDATE));
    LEGAL.put(Role.CANDIDATE, EnumSet.of(Role.FOLLOWER, Role.PRE_CANDIDATE, Role.CANDIDATE, Role.LEADER));
    LEGAL.put(Role.LEADER, EnumSet.of(Role.FOLLOWER));
  }

  private RoleTransitions() {}

  static boolean isLegal(Role from, Role to) {
    return LEGAL.get(from).contains(to);
  }

  static void check(long id, Role from, Role to) {
    if (!isLegal(from, to)) {
      throw new IllegalStateException("member " + id + ": illegal role transition " + from + " -> " + to);
    }
  }
}
