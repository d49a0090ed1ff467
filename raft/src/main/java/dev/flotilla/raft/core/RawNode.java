package dev.flotilla.raft.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One Raft member as a pure state machine (modelled on etcd-io/raft's RawNode). Inputs:
 * {@link #tick()}, {@link #step(Message)}, and the local requests {@link #propose},
 * {@link #proposeConfChange}, {@link #readIndex}, {@link #transferLeader}. Output: a
 * {@link Ready} the application handles (persist, send, apply) and acknowledges with
 * {@link #advance(Ready)}. No threads, I/O or clocks; not thread-safe.
 *
 * <p>The application may keep calling the inputs while a Ready is being handled (for instance
 * while its entries are being fsynced); what they produce goes into the next Ready, which is only
 * offered after {@code advance}.
 *
 * <p>Membership changes take effect on a member as soon as their entry is in its log (appended,
 * not yet committed), as in the Raft thesis §4.1; a truncated change reverts. One change at a time.
 */
public final class RawNode {

  private final Raft raft;
  private SoftState prevSoft;
  private HardState prevHard;
  private Ready outstanding;

  /**
   * Restores a member from {@code store} (a fresh store for a new member, see
   * {@link MemLogStore#bootstrap} for a founding one).
   */
  public RawNode(RaftConfig config, LogStore store) {
    this.raft = new Raft(config, store);
    this.prevSoft = softState();
    this.prevHard = store.hardState();
  }

  public long id() {
    return raft.id;
  }

  public void tick() {
    raft.tick();
  }

  /** Feeds a message from another member. Messages addressed to someone else are refused. */
  public void step(Message m) {
    Objects.requireNonNull(m, "message");
    if (m.to() != raft.id) {
      throw new IllegalArgumentException("message for member " + m.to() + " stepped into member " + raft.id + ": " + m);
    }
    if (m.from() == raft.id) {
      throw new IllegalArgumentException("member " + raft.id + " got a message from itself: " + m);
    }
    raft.step(m);
  }

  /**
   * Appends {@code data} to the log if this member leads.
   *
   * @return the index the entry got (it may still be lost if leadership changes before it commits)
   * @throws ProposalDroppedException when not leader or while transferring leadership
   */
  public long propose(byte[] data) {
    long index = leader("propose").propose(List.of(Entry.normal(0, 0, data)));
    raft.stepDownIfRemoved();
    return index;
  }

  /**
   * Appends {@code data} if this member leads, or forwards it to the leader it follows (the
   * application learns the outcome from the applied entries: tag the data to recognise it).
   *
   * @return the index the entry got here, or 0 when it was forwarded
   * @throws ProposalDroppedException when no leader is known, or the leader is transferring
   */
  public long proposeOrForward(List<byte[]> data) {
    if (data.isEmpty()) {
      return 0;
    }
    if (raft.state instanceof LeaderState leader) {
      List<Entry> entries = new ArrayList<>(data.size());
      for (byte[] d : data) {
        entries.add(Entry.normal(0, 0, d));
      }
      long index = leader.propose(entries);
      raft.stepDownIfRemoved();
      return index;
    }
    if (raft.role() == Role.FOLLOWER && raft.lead != Raft.NONE) {
      raft.send(new Message.Propose(raft.id, raft.lead, raft.term, data));
      return 0;
    }
    throw new ProposalDroppedException("member " + raft.id + " knows no leader to take a proposal", raft.lead);
  }

  /**
   * Proposes a membership change; it takes effect on each member once in its log. One at a time:
   * the next is refused until the previous one (and this leader's first entry) has committed.
   *
   * @throws ProposalDroppedException when not leader, or a previous change is not committed yet
   * @throws IllegalArgumentException when the change does not fit the current membership
   */
  public long proposeConfChange(ConfChange change) {
    return proposeConfChange(change, new byte[0]);
  }

  /**
   * As {@link #proposeConfChange(ConfChange)}, with application bytes carried in the same entry
   * (etcd's ConfChange context: the new member's name and addresses, say); read them back from the
   * applied entry with {@link ConfChange#context}.
   */
  public long proposeConfChange(ConfChange change, byte[] context) {
    long index = leader("propose a conf change").proposeConfChange(change, context);
    raft.stepDownIfRemoved();
    return index;
  }

  /**
   * Asks for a linearizable read point; the answer comes as a {@link ReadState} with the same
   * {@code context} in a later Ready. {@code context} must be unique among the pending reads of
   * <em>every</em> member: followers forward the request to their leader, which queues all of them by
   * context alone and ignores a context it already holds (so put the member's ID in it). A lost
   * request simply never gets an answer; asking again with the same context is harmless.
   *
   * @throws ProposalDroppedException when no leader is known
   */
  public void readIndex(byte[] context) {
    Objects.requireNonNull(context, "context");
    if (raft.state instanceof LeaderState leader) {
      leader.readIndex(raft.id, context);
    } else if (raft.role() == Role.FOLLOWER && raft.lead != Raft.NONE) {
      raft.send(new Message.ReadIndexRequest(raft.id, raft.lead, raft.term, context));
    } else {
      throw new ProposalDroppedException("member " + raft.id + " knows no leader to serve a read", raft.lead);
    }
  }

  /**
   * Hands leadership to {@code transferee}: the leader brings it up to date, then tells it to
   * campaign at once (TimeoutNow). Proposals are refused meanwhile; the attempt is abandoned after
   * an election timeout. A follower forwards the request to its leader.
   */
  public void transferLeader(long transferee) {
    if (raft.state instanceof LeaderState leader) {
      if (transferee != raft.id && !raft.tracker.isVoter(transferee)) {
        throw new IllegalArgumentException("cannot transfer leadership to " + transferee + ": not a voter");
      }
      leader.transferLeader(transferee);
    } else if (raft.role() == Role.FOLLOWER && raft.lead != Raft.NONE) {
      raft.send(new Message.TransferLeader(raft.id, raft.lead, raft.term, transferee));
    } else {
      throw new ProposalDroppedException("member " + raft.id + " knows no leader to transfer from", raft.lead);
    }
  }

  /** Starts an election now (tests, and operators who know better than the timer). */
  public void campaign() {
    raft.hup(false);
  }

  /** The transport's word on a snapshot sent to {@code to}: delivered, or failed. */
  public void reportSnapshot(long to, boolean ok) {
    if (raft.state instanceof LeaderState leader) {
      leader.reportSnapshot(to, ok);
    }
  }

  /** The transport could not reach {@code to}: stop streaming to it and probe. */
  public void reportUnreachable(long to) {
    if (raft.state instanceof LeaderState leader) {
      leader.reportUnreachable(to);
    }
  }

  private LeaderState leader(String what) {
    if (raft.state instanceof LeaderState leader) {
      return leader;
    }
    throw new ProposalDroppedException("member " + raft.id + " cannot " + what + ": it is " + raft.role()
        + (raft.lead != Raft.NONE ? ", the leader is " + raft.lead : ", no leader known"), raft.lead);
  }

  // ---- output -------------------------------------------------------------------------------

  private SoftState softState() {
    return new SoftState(raft.lead, raft.role());
  }

  private HardState hardState() {
    return new HardState(raft.term, raft.vote, raft.log.committed);
  }

  /**
   * A leader with {@link RaftConfig#deferCommitNotice} sends its commit index to the followers that
   * have not been sent it (an empty append each); the application calls this shortly after
   * {@link #commitUnannounced} turns true. Does nothing on other members.
   */
  public void announceCommit() {
    if (raft.state instanceof LeaderState leader) {
      leader.announceCommit();
    }
  }

  /** Whether this member leads and a follower it could send to has not been sent its commit index. */
  public boolean commitUnannounced() {
    return raft.state instanceof LeaderState leader && leader.commitUnannounced();
  }

  /** Whether {@link #ready()} has something (always false while a Ready awaits {@link #advance}). */
  public boolean hasReady() {
    if (outstanding != null) {
      return false;
    }
    return !softState().equals(prevSoft)
        || !hardState().equals(prevHard)
        || !raft.log.unstable.entries.isEmpty()
        || raft.log.unstable.snapshot != null
        || !raft.msgs.isEmpty()
        || !raft.readStates.isEmpty()
        || raft.log.hasNextCommittedEnts();
  }

  /**
   * The next batch of work. Call {@link #advance} with it once handled, before asking for the next.
   *
   * @throws IllegalStateException when the previous Ready has not been advanced
   */
  public Ready ready() {
    if (outstanding != null) {
      throw new IllegalStateException("member " + raft.id + ": advance the previous Ready before asking for another");
    }
    SoftState soft = softState();
    HardState hard = hardState();
    List<Entry> entries = raft.log.unstableEntries();
    Snapshot snapshot = raft.log.unstable.snapshot;
    boolean mustSync = !entries.isEmpty() || snapshot != null
        || hard.term() != prevHard.term() || hard.vote() != prevHard.vote();
    Ready rd = new Ready(
        soft.equals(prevSoft) ? null : soft,
        hard.equals(prevHard) ? null : hard,
        entries,
        snapshot,
        raft.log.nextCommittedEnts(Long.MAX_VALUE),
        new ArrayList<>(raft.msgs),
        new ArrayList<>(raft.readStates),
        mustSync);
    raft.msgs.clear();
    raft.readStates.clear();
    prevSoft = soft;
    prevHard = hard;
    outstanding = rd;
    return rd;
  }

  /** The application persisted, sent and applied {@code rd}. */
  public void advance(Ready rd) {
    if (rd != outstanding) {
      throw new IllegalStateException("member " + raft.id + ": advance() must get the Ready last returned by ready()");
    }
    outstanding = null;
    if (!rd.entries().isEmpty()) {
      Entry last = rd.entries().get(rd.entries().size() - 1);
      raft.log.stableTo(last.index(), last.term());
    }
    if (rd.snapshot() != null) {
      raft.log.stableSnapTo(rd.snapshot().index());
      raft.log.appliedTo(rd.snapshot().index());
    }
    if (!rd.committedEntries().isEmpty()) {
      raft.log.appliedTo(rd.committedEntries().get(rd.committedEntries().size() - 1).index());
    }
  }

  // ---- inspection ---------------------------------------------------------------------------

  public Status status() {
    Map<Long, Status.PeerProgress> progress = Collections.emptyMap();
    long transferee = Raft.NONE;
    if (raft.state instanceof LeaderState leader) {
      TreeMap<Long, Status.PeerProgress> map = new TreeMap<>();
      raft.tracker.progress.forEach((id, pr) ->
          map.put(id, new Status.PeerProgress(pr.match, pr.next, pr.state, pr.learner)));
      progress = Collections.unmodifiableMap(map);
      transferee = leader.leadTransferee;
    }
    return new Status(raft.id, raft.term, raft.vote, raft.log.committed, raft.log.applied, raft.lead, raft.role(),
        raft.currentConf(), raft.confIndex(), progress, transferee);
  }

  public Role role() {
    return raft.role();
  }

  public long term() {
    return raft.term;
  }

  public long lead() {
    return raft.lead;
  }

  /** The membership in force here: that of the last conf change entry in the log (or the snapshot's). */
  public ConfState confState() {
    return raft.currentConf();
  }

  /** Index of the conf change entry (or snapshot) the membership in force comes from. */
  public long confIndex() {
    return raft.confIndex();
  }

  /** A read-only view of this member's log. */
  public LogView log() {
    return raft.log;
  }
}
