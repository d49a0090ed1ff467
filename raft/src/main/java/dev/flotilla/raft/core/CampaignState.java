package dev.flotilla.raft.core;

/** What pre-candidates and candidates share: collect votes, yield to a leader of our term. */
abstract sealed class CampaignState implements RoleState permits PreCandidateState, CandidateState {

  final Raft r;

  CampaignState(Raft r) {
    this.r = r;
  }

  abstract boolean preVote();

  @Override
  public void tick() {
    r.tickElection();
  }

  @Override
  public void step(Message m) {
    if (m instanceof Message.AppendEntries a) {
      r.becomeFollower(r.term, a.from());
      r.handleAppendEntries(a);
    } else if (m instanceof Message.Heartbeat h) {
      r.becomeFollower(r.term, h.from());
      r.handleHeartbeat(h);
    } else if (m instanceof Message.InstallSnapshot s) {
      r.becomeFollower(r.term, s.from());
      r.handleSnapshot(s);
    } else if (m instanceof Message.VoteResponse v && v.preVote() == preVote()) {
      switch (r.poll(v.from(), !v.reject())) {
        case WON -> {
          if (preVote()) {
            r.campaign(false, false);
          } else {
            r.becomeLeader();
          }
        }
        case LOST -> r.becomeFollower(r.term, Raft.NONE);
        case PENDING -> { }
      }
    }
    // TimeoutNow, read and transfer traffic: ignored while campaigning
  }
}
