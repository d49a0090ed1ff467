package dev.flotilla.raft.core;

/** Asks whether a quorum would vote for us, without raising our term (§9.6 pre-vote). */
final class PreCandidateState extends CampaignState {

  PreCandidateState(Raft r) {
    super(r);
  }

  @Override
  public Role role() {
    return Role.PRE_CANDIDATE;
  }

  @Override
  boolean preVote() {
    return true;
  }
}
