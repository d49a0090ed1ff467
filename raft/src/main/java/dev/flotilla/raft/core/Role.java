package dev.flotilla.raft.core;

/** A member's role; see {@link RoleTransitions} for the legal moves between them. */
public enum Role { FOLLOWER, PRE_CANDIDATE, CANDIDATE, LEADER }
