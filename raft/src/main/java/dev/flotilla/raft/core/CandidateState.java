package dev.flotilla.raft.core;

/** Campaigns in a new term, having voted for itself. */
final class CandidateState extends CampaignState {

  CandidateState(Raft r) {
    super(r);
  }

  @Override
  public Role role() {
    return Role.CANDIDATE;
  }

  @Override
  boolean preVote() {
    return false;
  }
}
