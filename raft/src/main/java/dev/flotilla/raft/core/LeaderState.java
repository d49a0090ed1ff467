package dev.flotilla.raft.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Leads: appends proposals, replicates to every member according to its {@link Progress},
 * commits by counting current-term matches, answers ReadIndex requests, transfers leadership,
 * and with check-quorum steps down when a quorum has gone silent.
 */
final class LeaderState implements RoleState {

  private final Raft r;
  private final RaftLog log;
  private int heartbeatElapsed;
  long leadTransferee = Raft.NONE;
  /** Index of the latest conf change proposed (or of our first entry); a new one waits until it commits. */
  long pendingConfIndex;
  private final ReadOnlyQueue readOnly = new ReadOnlyQueue();
  /** ReadIndex requests that arrived before we committed an entry of our term. */
  private final List<ReadOnlyQueue.Pending> waitingReads = new ArrayList<>();

  LeaderState(Raft r) {
    this.r = r;
    this.log = r.log;
  }

  @Override
  public Role role() {
    return Role.LEADER;
  }

  /** Takes office: commit an empty entry of our term (which also commits earlier terms' entries). */
  void start() {
    Progress self = r.tracker.progress.get(r.id);
    if (self != null) {
      self.becomeReplicate();
      self.recentActive = true;
    }
    append(List.of(Entry.normal(0, 0, null)));
    // No membership change until this first entry of our term commits: that commits any change a
    // previous leader left in the log, and is the fix for the single-server-change bug where a new
    // leader's change races an uncommitted one of an earlier term (Ongaro, raft-dev 2015).
    pendingConfIndex = log.lastIndex();
    bcastAppend();
  }

  // ---- ticks --------------------------------------------------------------------------------

  @Override
  public void tick() {
    heartbeatElapsed++;
    r.electionElapsed++;
    if (r.electionElapsed >= r.cfg.electionTick()) {
      r.electionElapsed = 0;
      if (r.cfg.checkQuorum()) {
        if (!r.tracker.quorumActive(r.id)) {
          r.becomeFollower(r.term, Raft.NONE);
          return;
        }
        for (Map.Entry<Long, Progress> e : r.tracker.progress.entrySet()) {
          if (e.getKey() != r.id) {
            e.getValue().recentActive = false;
          }
        }
      }
      // a transfer that did not finish within an election timeout is abandoned
      leadTransferee = Raft.NONE;
    }
    for (Progress pr : r.tracker.progress.values()) {
      // Nobody tells us when a snapshot is lost on the way: after an election timeout without an
      // answer, probe again (and send a fresh snapshot if still needed).
      if (pr.state == Progress.State.SNAPSHOT && ++pr.snapshotTicks > r.cfg.electionTick()) {
        pr.becomeProbe();
      }
    }
    if (heartbeatElapsed >= r.cfg.heartbeatTick()) {
      heartbeatElapsed = 0;
      bcastHeartbeat(readOnly.lastPendingContext());
    }
  }

  // ---- local requests -----------------------------------------------------------------------

  long propose(List<Entry> entries) {
    if (leadTransferee != Raft.NONE) {
      throw new ProposalDroppedException("member " + r.id + " is transferring leadership to " + leadTransferee
          + "; proposals are refused until it completes", Raft.NONE);
    }
    long last = append(entries);
    bcastAppend();
    return last;
  }

  long proposeConfChange(ConfChange cc, byte[] context) {
    if (pendingConfIndex > log.committed) {
      throw new ProposalDroppedException("index " + pendingConfIndex + " (a membership change or this leader's"
          + " first entry) is not committed yet (commit " + log.committed + "); propose the change after it", r.id);
    }
    String reason = r.tracker.conf.rejectReason(cc);
    if (reason != null) {
      throw new IllegalArgumentException("conf change " + cc + " refused: " + reason);
    }
    long index = propose(List.of(new Entry(0, 0, Entry.Type.CONF_CHANGE, cc.encode(context))));
    pendingConfIndex = index;
    return index;
  }

  /** Gives entries our term and the next indexes, appends them, and commits if we are the only voter. */
  private long append(List<Entry> entries) {
    long li = log.lastIndex();
    List<Entry> stamped = new ArrayList<>(entries.size());
    for (int i = 0; i < entries.size(); i++) {
      Entry e = entries.get(i);
      stamped.add(new Entry(li + 1 + i, r.term, e.type(), e.data()));
    }
    long last = log.append(stamped);
    Progress self = r.tracker.progress.get(r.id);
    if (self != null) {
      self.maybeUpdate(last);
    }
    maybeCommit();
    return last;
  }

  void readIndex(long from, byte[] context) {
    if (r.tracker.conf.voters().size() == 1 && r.tracker.isVoter(r.id)) {
      answerRead(from, log.committed, context);
      return;
    }
    if (!committedEntryInCurrentTerm()) {
      // our commit index may lag the previous leader's until an entry of our term commits (§6.4)
      waitingReads.add(new ReadOnlyQueue.Pending(from, context, 0, Set.of(), 0));
      return;
    }
    serveRead(from, context);
  }

  private void serveRead(long from, byte[] context) {
    if (r.cfg.readOnlyOption() == ReadOnlyOption.LEASE_BASED) {
      answerRead(from, log.committed, context);
      return;
    }
    readOnly.add(log.committed, from, context);
    readOnly.ackSelf(r.id, context);
    bcastHeartbeat(readOnly.heartbeatContext(context));
  }

  private void answerRead(long from, long index, byte[] context) {
    if (from == r.id) {
      r.readStates.add(new ReadState(index, context));
    } else {
      r.send(new Message.ReadIndexResponse(r.id, from, r.term, index, context));
    }
  }

  private boolean committedEntryInCurrentTerm() {
    return log.zeroTermOnOutOfBounds(log.committed) == r.term;
  }

  private void releaseWaitingReads() {
    if (waitingReads.isEmpty() || !committedEntryInCurrentTerm()) {
      return;
    }
    List<ReadOnlyQueue.Pending> reads = new ArrayList<>(waitingReads);
    waitingReads.clear();
    for (ReadOnlyQueue.Pending p : reads) {
      serveRead(p.from(), p.context());
    }
  }

  void transferLeader(long transferee) {
    if (transferee == r.id) {
      return;
    }
    Progress pr = r.tracker.progress.get(transferee);
    if (pr == null || pr.learner) {
      return;
    }
    if (leadTransferee == transferee) {
      return;
    }
    leadTransferee = transferee;
    r.electionElapsed = 0;
    if (pr.match == log.lastIndex()) {
      r.send(new Message.TimeoutNow(r.id, transferee, r.term));
    } else {
      sendAppend(transferee);
    }
  }

  void reportSnapshot(long to, boolean ok) {
    Progress pr = r.tracker.progress.get(to);
    if (pr == null || pr.state != Progress.State.SNAPSHOT) {
      return;
    }
    if (!ok) {
      pr.pendingSnapshot = 0;
    }
    // wait for the next heartbeat response before probing
    pr.becomeProbe();
    pr.msgAppFlowPaused = true;
  }

  void reportUnreachable(long to) {
    Progress pr = r.tracker.progress.get(to);
    if (pr != null && pr.state == Progress.State.REPLICATE) {
      pr.becomeProbe();
    }
  }

  /** The membership changed under us (we are still a voter). */
  void onConfChanged() {
    if (maybeCommit()) {
      bcastAppend();
    } else {
      for (long id : r.tracker.progress.keySet()) {
        if (id != r.id) {
          maybeSendAppend(id, false);
        }
      }
    }
    if (leadTransferee != Raft.NONE && !r.tracker.isVoter(leadTransferee)) {
      leadTransferee = Raft.NONE;
    }
  }

  // ---- messages -----------------------------------------------------------------------------

  @Override
  public void step(Message m) {
    if (m instanceof Message.AppendResponse a) {
      handleAppendResponse(a);
    } else if (m instanceof Message.HeartbeatResponse h) {
      handleHeartbeatResponse(h);
    } else if (m instanceof Message.ReadIndexRequest q) {
      if (r.tracker.progress.containsKey(q.from())) {
        readIndex(q.from(), q.context());
      }
    } else if (m instanceof Message.TransferLeader t) {
      transferLeader(t.transferee());
    } else if (m instanceof Message.Propose p) {
      if (r.tracker.progress.containsKey(p.from()) && leadTransferee == Raft.NONE) {
        List<Entry> entries = new java.util.ArrayList<>(p.data().size());
        for (byte[] d : p.data()) {
          entries.add(Entry.normal(0, 0, d));
        }
        long last = propose(entries);
        Progress pr = r.tracker.progress.get(p.from());
        if (pr.forwardedFirst == 0) {
          pr.forwardedFirst = last - entries.size() + 1;
        }
        pr.forwardedLast = last;
      }
      // while transferring, forwarded proposals are dropped: their proposers time out and retry
    }
    // vote responses from the election we won, and the like: nothing to do
  }

  private void handleAppendResponse(Message.AppendResponse m) {
    Progress pr = r.tracker.progress.get(m.from());
    if (pr == null) {
      return;
    }
    pr.recentActive = true;
    if (m.reject()) {
      long nextProbe = m.rejectHint();
      if (m.hintTerm() > 0) {
        // jump over every entry of ours with a term above the follower's at the hint
        nextProbe = log.findConflictByTerm(m.rejectHint(), m.hintTerm())[0];
      }
      if (pr.maybeDecrTo(m.index(), nextProbe)) {
        if (pr.state == Progress.State.REPLICATE) {
          pr.becomeProbe();
        }
        sendAppend(m.from());
      }
      return;
    }
    boolean oldPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index()) && !(pr.match == m.index() && pr.state == Progress.State.PROBE)) {
      return;
    }
    switch (pr.state) {
      case PROBE -> pr.becomeReplicate();
      case SNAPSHOT -> {
        if (pr.match + 1 >= log.firstIndex()) {
          pr.becomeProbe();
          pr.becomeReplicate();
        }
      }
      case REPLICATE -> pr.inflights.freeLE(m.index());
    }
    if (maybeCommit()) {
      commitMoved();
    } else if (oldPaused) {
      sendAppend(m.from());
    }
    while (maybeSendAppend(m.from(), false)) {
      // keep the pipeline full up to the in-flight bounds
    }
    if (m.from() == leadTransferee && pr.match == log.lastIndex()) {
      r.send(new Message.TimeoutNow(r.id, m.from(), r.term));
    }
  }

  private void handleHeartbeatResponse(Message.HeartbeatResponse m) {
    Progress pr = r.tracker.progress.get(m.from());
    if (pr == null) {
      return;
    }
    pr.recentActive = true;
    pr.msgAppFlowPaused = false;
    if (pr.state == Progress.State.REPLICATE && pr.inflights.full()) {
      // acks may have been lost: let one more append through so its answer frees the window
      pr.inflights.freeFirstOne();
    }
    if (pr.match < log.lastIndex() || pr.state == Progress.State.PROBE) {
      sendAppend(m.from());
    }
    if (r.cfg.readOnlyOption() != ReadOnlyOption.SAFE || m.context() == null) {
      return;
    }
    Set<Long> acks = readOnly.recvAck(m.from(), m.context());
    if (acks == null || !r.tracker.hasQuorum(acks)) {
      return;
    }
    for (ReadOnlyQueue.Pending p : readOnly.advance(m.context())) {
      answerRead(p.from(), p.index(), p.context());
    }
  }

  // ---- replication --------------------------------------------------------------------------

  boolean maybeCommit() {
    if (log.maybeCommit(r.tracker.committedIndex(), r.term)) {
      releaseWaitingReads();
      return true;
    }
    return false;
  }

  /**
   * Our commit index moved: every follower hears of it in an append at once, unless
   * {@link RaftConfig#deferCommitNotice}: then only those with entries to receive (the append
   * carries the commit), those not replicating normally, and those whose forwarded proposals it
   * commits; the others with their next append or heartbeat, or at {@link #announceCommit}. Under
   * load the next proposals' appends carry it: a round that only commits sends nothing, and its
   * followers answer nothing.
   */
  private void commitMoved() {
    if (!r.cfg.deferCommitNotice()) {
      bcastAppend();
      return;
    }
    for (Map.Entry<Long, Progress> e : r.tracker.progress.entrySet()) {
      Progress pr = e.getValue();
      if (e.getKey() != r.id && (pr.state != Progress.State.REPLICATE || pr.next <= log.lastIndex()
          || (pr.forwardedFirst != 0 && pr.forwardedFirst <= log.committed))) {
        sendAppend(e.getKey());
      }
    }
  }

  /** Sends the commit index to every replicating follower that has not been sent it yet. */
  void announceCommit() {
    for (Map.Entry<Long, Progress> e : r.tracker.progress.entrySet()) {
      if (e.getKey() != r.id && e.getValue().commitSent < log.committed) {
        sendAppend(e.getKey());
      }
    }
  }

  /** Whether a follower that could be sent an append has not been sent our commit index yet. */
  boolean commitUnannounced() {
    for (Map.Entry<Long, Progress> e : r.tracker.progress.entrySet()) {
      Progress pr = e.getValue();
      if (e.getKey() != r.id && pr.commitSent < log.committed && !pr.isPaused()) {
        return true;
      }
    }
    return false;
  }

  void bcastAppend() {
    for (long id : r.tracker.progress.keySet()) {
      if (id != r.id) {
        sendAppend(id);
      }
    }
  }

  private void sendAppend(long to) {
    maybeSendAppend(to, true);
  }

  /**
   * Sends the next append to {@code to} if its progress allows one; an empty one only if
   * {@code sendIfEmpty} (it still carries the commit index). Falls back to a snapshot when the
   * entries it needs are compacted.
   */
  private boolean maybeSendAppend(long to, boolean sendIfEmpty) {
    Progress pr = r.tracker.progress.get(to);
    if (pr == null || pr.isPaused()) {
      return false;
    }
    long prevIndex = pr.next - 1;
    long prevTerm = log.term(prevIndex);
    if (prevTerm < 0) {
      return maybeSendSnapshot(to, pr);
    }
    List<Entry> entries;
    try {
      entries = log.entriesFrom(pr.next, r.cfg.maxSizePerMsg());
    } catch (LogCompactedException e) {
      return maybeSendSnapshot(to, pr);
    }
    if (entries.isEmpty() && !sendIfEmpty) {
      return false;
    }
    long bytes = 0;
    for (Entry e : entries) {
      bytes += e.sizeBytes();
    }
    r.send(new Message.AppendEntries(r.id, to, r.term, prevIndex, prevTerm, entries, log.committed));
    pr.sentEntries(entries.size(), bytes);
    commitSent(pr, log.committed);
    return true;
  }

  private static void commitSent(Progress pr, long commit) {
    pr.commitSent = Math.max(pr.commitSent, commit);
    if (pr.forwardedFirst != 0 && pr.forwardedFirst <= commit) {
      pr.forwardedFirst = pr.forwardedLast > commit ? commit + 1 : 0;
    }
  }

  private boolean maybeSendSnapshot(long to, Progress pr) {
    if (!pr.recentActive) {
      return false; // do not ship a snapshot to a member that may be down
    }
    Snapshot snap = log.snapshot();
    if (snap.isEmpty()) {
      throw new IllegalStateException("member " + to + " needs entries before " + log.firstIndex()
          + " but there is no snapshot");
    }
    pr.becomeSnapshot(snap.index());
    r.send(new Message.InstallSnapshot(r.id, to, r.term, snap));
    return true;
  }

  private void bcastHeartbeat(byte[] context) {
    for (Map.Entry<Long, Progress> e : r.tracker.progress.entrySet()) {
      long id = e.getKey();
      if (id == r.id) {
        continue;
      }
      // never tell a follower to commit past what it is known to hold
      long commit = Math.min(e.getValue().match, log.committed);
      r.send(new Message.Heartbeat(r.id, id, r.term, commit, context));
      commitSent(e.getValue(), commit);
    }
  }
}
