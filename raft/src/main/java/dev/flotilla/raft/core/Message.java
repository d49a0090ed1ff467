package dev.flotilla.raft.core;

import java.util.List;

/**
 * Everything members send each other. Every message carries the sender's term; the receiver
 * compares it with its own before anything else (see {@code Raft.step}).
 */
public sealed interface Message {

  long from();

  long to();

  long term();

  /** Replicate entries after ({@code prevIndex}, {@code prevTerm}); empty when only the commit index moved. */
  record AppendEntries(long from, long to, long term, long prevIndex, long prevTerm, List<Entry> entries, long commit)
      implements Message {
    public AppendEntries {
      entries = List.copyOf(entries);
    }
  }

  /**
   * Accepts (the follower's log matches up to {@code index}) or rejects an append at
   * {@code index}. A rejection carries a hint for fast conflict resolution: the follower's largest
   * index {@code <= rejectHint} whose term is {@code <= hintTerm}.
   */
  record AppendResponse(long from, long to, long term, long index, boolean reject, long rejectHint, long hintTerm)
      implements Message {}

  /** Leader liveness and commit index ({@code min(commit, follower's match)}); context ties it to a ReadIndex round. */
  record Heartbeat(long from, long to, long term, long commit, byte[] context) implements Message {}

  record HeartbeatResponse(long from, long to, long term, byte[] context) implements Message {}

  /**
   * A (pre-)vote request. A pre-vote carries the term the candidate would campaign in without
   * anyone adopting it. {@code transfer} marks a campaign started by TimeoutNow, which voters honour
   * even inside a leader lease.
   */
  record VoteRequest(long from, long to, long term, long lastIndex, long lastTerm, boolean preVote, boolean transfer)
      implements Message {}

  record VoteResponse(long from, long to, long term, boolean reject, boolean preVote) implements Message {}

  /** The whole snapshot in one message (chunked streaming belongs to the transport; see README). */
  record InstallSnapshot(long from, long to, long term, Snapshot snapshot) implements Message {}

  /** Leadership transfer: campaign now, the leader has made sure you are up to date. */
  record TimeoutNow(long from, long to, long term) implements Message {}

  /** A follower asking its leader to transfer leadership to {@code transferee}. */
  record TransferLeader(long from, long to, long term, long transferee) implements Message {}

  /** A follower forwarding an application's ReadIndex request to its leader. */
  record ReadIndexRequest(long from, long to, long term, byte[] context) implements Message {}

  record ReadIndexResponse(long from, long to, long term, long index, byte[] context) implements Message {}

  /**
   * A follower forwarding proposals to its leader (etcd's MsgProp): the leader appends them as
   * normal entries; anyone else passes them on to the leader it knows, or drops them. Whoever
   * proposed learns the outcome from the applied entries, not from a reply.
   */
  record Propose(long from, long to, long term, List<byte[]> data) implements Message {
    public Propose {
      data = List.copyOf(data);
    }
  }
}
