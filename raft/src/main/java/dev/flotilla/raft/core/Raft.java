package dev.flotilla.raft.core;

import java.util.ArrayList;
import java.util.List;

/**
 * The state every role shares and the role-independent rules: term comparison on every incoming
 * message, vote granting, role changes (checked against {@link RoleTransitions}), and the follower
 * side of replication, which candidates use too once they learn of a leader. Role-specific
 * behaviour lives in {@link FollowerState}, {@link PreCandidateState}, {@link CandidateState} and
 * {@link LeaderState}. Single-threaded, no I/O: output goes to {@link #msgs} and {@link #readStates}.
 */
final class Raft {

  static final long NONE = 0;

  final long id;
  final RaftConfig cfg;
  final RaftLog log;
  final ProgressTracker tracker;

  long term;
  long vote;
  long lead = NONE;
  /**
   * Membership takes effect when its entry is appended (thesis §4.1), so the membership in force
   * is the one of the last conf change entry in the log; {@code baseConf} is the snapshot's.
   * Map from conf change index to the membership after it, for the entries above the snapshot;
   * kept so that a truncated conf change reverts to the one before.
   */
  private final java.util.TreeMap<Long, ConfState> confLog = new java.util.TreeMap<>();
  private ConfState baseConf;
  private long baseConfIndex;
  RoleState state;
  int electionElapsed;
  int randomizedElectionTimeout;

  final List<Message> msgs = new ArrayList<>();
  final List<ReadState> readStates = new ArrayList<>();

  Raft(RaftConfig cfg, LogStore storage) {
    this.id = cfg.id();
    this.cfg = cfg;
    this.log = new RaftLog(storage);
    this.tracker = new ProgressTracker(cfg.maxInflightMsgs(), cfg.maxInflightBytes());
    HardState hs = storage.hardState();
    Snapshot snap = storage.snapshot();
    term = hs.term();
    vote = hs.vote();
    log.commitTo(Math.max(hs.commit(), log.committed));
    long applied = cfg.applied() > 0 ? cfg.applied() : Math.max(log.applied, snap.index());
    log.appliedTo(applied);
    baseConf = snap.confState();
    baseConfIndex = snap.index();
    for (long i = Math.max(log.firstIndex(), snap.index() + 1); i <= log.lastIndex(); i++) {
      Entry e = log.entry(i);
      if (e.isConfChange()) {
        confLog.put(i, currentConf().apply(ConfChange.decode(e.data())));
      }
    }
    tracker.setConf(currentConf(), log.lastIndex() + 1);
    log.appendListener = this::onAppended;
    state = new FollowerState(this);
    resetRandomizedElectionTimeout();
  }

  Role role() {
    return state.role();
  }

  void send(Message m) {
    msgs.add(m);
  }

  // ---- incoming messages ------------------------------------------------------------------

  void step(Message m) {
    if (m.term() > term) {
      if (m instanceof Message.VoteRequest v) {
        boolean inLease = cfg.checkQuorum() && lead != NONE && electionElapsed < cfg.electionTick();
        if (!v.transfer() && inLease) {
          // we heard from a leader within the election timeout: do not help depose it (§6 lease,
          // and what keeps a removed or partitioned member from disrupting the cluster)
          return;
        }
      }
      if (m instanceof Message.VoteRequest v && v.preVote()) {
        // a pre-vote never changes our term
      } else if (m instanceof Message.VoteResponse v && v.preVote() && !v.reject()) {
        // a granted pre-vote carries the term the candidate will campaign in; adopted when it does
      } else if (m instanceof Message.AppendEntries || m instanceof Message.Heartbeat
          || m instanceof Message.InstallSnapshot) {
        becomeFollower(m.term(), m.from());
      } else {
        becomeFollower(m.term(), NONE);
      }
    } else if (m.term() < term) {
      if ((cfg.checkQuorum() || cfg.preVote())
          && (m instanceof Message.Heartbeat || m instanceof Message.AppendEntries)) {
        // A stale leader, perhaps cut off by a partition. With check-quorum or pre-vote our term
        // may have risen without a new leader it could hear from; tell it so it steps down.
        send(new Message.AppendResponse(id, m.from(), term, 0, false, 0, 0));
      } else if (m instanceof Message.VoteRequest v && v.preVote()) {
        // reject explicitly so the pre-candidate learns our term and does not wait for ever
        send(new Message.VoteResponse(id, m.from(), term, true, true));
      }
      return;
    }

    if (m instanceof Message.VoteRequest v) {
      handleVoteRequest(v);
    } else {
      state.step(m);
    }
    stepDownIfRemoved();
  }

  void tick() {
    state.tick();
    stepDownIfRemoved();
  }

  private void handleVoteRequest(Message.VoteRequest m) {
    boolean canVote = vote == m.from()
        || (vote == NONE && lead == NONE)
        || (m.preVote() && m.term() > term);
    if (canVote && log.isUpToDate(m.lastIndex(), m.lastTerm())) {
      // a granted pre-vote answers in the term the candidate asked about, so the candidate can
      // tell it from stale answers
      send(new Message.VoteResponse(id, m.from(), m.term(), false, m.preVote()));
      if (!m.preVote()) {
        electionElapsed = 0;
        vote = m.from();
      }
    } else {
      send(new Message.VoteResponse(id, m.from(), term, true, m.preVote()));
    }
  }

  // ---- follower side of replication ----------------------------------------------------------

  void handleAppendEntries(Message.AppendEntries m) {
    if (m.prevIndex() < log.committed) {
      send(new Message.AppendResponse(id, m.from(), term, log.committed, false, 0, 0));
      return;
    }
    long lastNew = log.maybeAppend(m.prevIndex(), m.prevTerm(), m.commit(), m.entries());
    if (lastNew >= 0) {
      send(new Message.AppendResponse(id, m.from(), term, lastNew, false, 0, 0));
      return;
    }
    // Our log does not match at prevIndex. Hint where it might: the largest index at or below
    // prevIndex whose term is at most prevTerm; the leader skips everything in between.
    long hintIndex = Math.min(m.prevIndex(), log.lastIndex());
    long[] hint = log.findConflictByTerm(hintIndex, m.prevTerm());
    send(new Message.AppendResponse(id, m.from(), term, m.prevIndex(), true, hint[0], hint[1]));
  }

  void handleHeartbeat(Message.Heartbeat m) {
    log.commitTo(Math.min(m.commit(), log.lastIndex()));
    send(new Message.HeartbeatResponse(id, m.from(), term, m.context()));
  }

  void handleSnapshot(Message.InstallSnapshot m) {
    if (restore(m.snapshot())) {
      send(new Message.AppendResponse(id, m.from(), term, log.lastIndex(), false, 0, 0));
    } else {
      send(new Message.AppendResponse(id, m.from(), term, log.committed, false, 0, 0));
    }
  }

  /** Installs a leader's snapshot; false when we already have what it covers. */
  private boolean restore(Snapshot s) {
    if (s.index() <= log.committed) {
      return false;
    }
    if (log.matchTerm(s.index(), s.term())) {
      // our log already holds the snapshot's last entry: just move the commit index
      log.commitTo(s.index());
      return false;
    }
    log.restore(s);
    confLog.clear();
    baseConf = s.confState();
    baseConfIndex = s.index();
    tracker.setConf(baseConf, log.lastIndex() + 1);
    return true;
  }

  // ---- membership ---------------------------------------------------------------------------

  ConfState currentConf() {
    return confLog.isEmpty() ? baseConf : confLog.lastEntry().getValue();
  }

  /** Index of the conf change entry (or snapshot) the membership in force comes from. */
  long confIndex() {
    return confLog.isEmpty() ? baseConfIndex : confLog.lastKey();
  }

  /** Entries were appended to the log, replacing any suffix from the first one's index. */
  private void onAppended(List<Entry> ents) {
    ConfState before = currentConf();
    confLog.tailMap(ents.get(0).index(), true).clear();
    for (Entry e : ents) {
      if (e.isConfChange()) {
        confLog.put(e.index(), currentConf().apply(ConfChange.decode(e.data())));
      }
    }
    if (!currentConf().equals(before)) {
      switchToConfig(currentConf());
    }
  }

  private void switchToConfig(ConfState cs) {
    tracker.setConf(cs, log.lastIndex() + 1);
    Progress self = tracker.progress.get(id);
    if (self != null && state instanceof LeaderState) {
      self.maybeUpdate(log.lastIndex());
    }
    if (state instanceof LeaderState leader) {
      leader.onConfChanged();
    }
  }

  /**
   * A leader whose removal has committed steps down (§4.2.2: until then it manages the cluster
   * without counting itself). Called after each input, never from inside a role's handler.
   */
  void stepDownIfRemoved() {
    if (state instanceof LeaderState && !tracker.isVoter(id) && log.committed >= confIndex()) {
      becomeFollower(term, NONE);
    }
  }

  // ---- elections ----------------------------------------------------------------------------

  /** Can this member campaign: a voter with no snapshot still to apply. */
  boolean promotable() {
    return tracker.isVoter(id) && log.unstable.snapshot == null;
  }

  void resetRandomizedElectionTimeout() {
    randomizedElectionTimeout = cfg.electionTick() + cfg.random().nextInt(cfg.electionTick());
  }

  /** The election tick of followers and candidates. */
  void tickElection() {
    electionElapsed++;
    if (promotable() && electionElapsed >= randomizedElectionTimeout) {
      electionElapsed = 0;
      hup(false);
    }
  }

  /** Start an election (a pre-vote first, unless {@code transfer} or pre-vote is off). */
  void hup(boolean transfer) {
    if (state instanceof LeaderState || !promotable()) {
      return;
    }
    campaign(cfg.preVote() && !transfer, transfer);
  }

  void campaign(boolean preVote, boolean transfer) {
    long voteTerm;
    if (preVote) {
      becomePreCandidate();
      voteTerm = term + 1;
    } else {
      becomeCandidate();
      voteTerm = term;
    }
    if (poll(id, true) == ProgressTracker.VoteResult.WON) {
      // a single-voter membership wins at once
      if (preVote) {
        campaign(false, transfer);
      } else {
        becomeLeader();
      }
      return;
    }
    long lastIndex = log.lastIndex();
    long lastTerm = log.lastTerm();
    for (long voter : tracker.conf.voters()) {
      if (voter != id) {
        send(new Message.VoteRequest(id, voter, voteTerm, lastIndex, lastTerm, preVote, transfer));
      }
    }
  }

  ProgressTracker.VoteResult poll(long from, boolean granted) {
    tracker.recordVote(from, granted);
    return tracker.voteResult();
  }

  // ---- role changes -------------------------------------------------------------------------

  private void transition(Role to) {
    RoleTransitions.check(id, role(), to);
  }

  private void reset(long newTerm) {
    if (term != newTerm) {
      term = newTerm;
      vote = NONE;
    }
    lead = NONE;
    electionElapsed = 0;
    resetRandomizedElectionTimeout();
    tracker.resetVotes();
    tracker.resetProgress(id, log.lastIndex());
  }

  void becomeFollower(long newTerm, long newLead) {
    transition(Role.FOLLOWER);
    reset(newTerm);
    lead = newLead;
    state = new FollowerState(this);
  }

  void becomePreCandidate() {
    transition(Role.PRE_CANDIDATE);
    // no term change and no vote: a pre-candidate must not disturb anyone
    tracker.resetVotes();
    lead = NONE;
    state = new PreCandidateState(this);
  }

  void becomeCandidate() {
    transition(Role.CANDIDATE);
    reset(term + 1);
    vote = id;
    state = new CandidateState(this);
  }

  void becomeLeader() {
    transition(Role.LEADER);
    reset(term);
    lead = id;
    LeaderState leader = new LeaderState(this);
    state = leader;
    leader.start();
  }
}
