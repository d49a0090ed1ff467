package dev.flotilla.raft.core;

/** Behaviour of one role: what a tick does and how messages of the current term are handled. */
sealed interface RoleState permits FollowerState, CampaignState, LeaderState {

  Role role();

  void tick();

  /** Handles a message whose term equals ours (vote requests are handled by {@link Raft}). */
  void step(Message m);
}
