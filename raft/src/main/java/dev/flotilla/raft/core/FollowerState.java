package dev.flotilla.raft.core;

/** Follows a leader: accepts its log, campaigns when it falls silent. */
final class FollowerState implements RoleState {

  private final Raft r;

  FollowerState(Raft r) {
    this.r = r;
  }

  @Override
  public Role role() {
    return Role.FOLLOWER;
  }

  @Override
  public void tick() {
    r.tickElection();
  }

  @Override
  public void step(Message m) {
    if (m instanceof Message.AppendEntries a) {
      r.electionElapsed = 0;
      r.lead = a.from();
      r.handleAppendEntries(a);
    } else if (m instanceof Message.Heartbeat h) {
      r.electionElapsed = 0;
      r.lead = h.from();
      r.handleHeartbeat(h);
    } else if (m instanceof Message.InstallSnapshot s) {
      r.electionElapsed = 0;
      r.lead = s.from();
      r.handleSnapshot(s);
    } else if (m instanceof Message.TimeoutNow) {
      r.hup(true);
    } else if (m instanceof Message.TransferLeader t) {
      if (r.lead != Raft.NONE) {
        r.send(new Message.TransferLeader(r.id, r.lead, r.term, t.transferee()));
      }
    } else if (m instanceof Message.Propose p) {
      if (r.lead != Raft.NONE && r.lead != p.from()) {
        r.send(new Message.Propose(r.id, r.lead, r.term, p.data()));
      }
    } else if (m instanceof Message.ReadIndexResponse resp) {
      r.readStates.add(new ReadState(resp.index(), resp.context()));
    }
    // anything else answers a role we no longer hold
  }
}
