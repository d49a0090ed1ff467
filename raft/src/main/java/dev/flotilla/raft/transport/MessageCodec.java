package dev.flotilla.raft.transport;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.flotilla.proto.raft.AppendEntries;
import dev.flotilla.proto.raft.AppendResponse;
import dev.flotilla.proto.raft.ConfChangeType;
import dev.flotilla.proto.raft.EntryType;
import dev.flotilla.proto.raft.Heartbeat;
import dev.flotilla.proto.raft.HeartbeatResponse;
import dev.flotilla.proto.raft.InstallSnapshot;
import dev.flotilla.proto.raft.RaftMessage;
import dev.flotilla.proto.raft.ReadIndexRequest;
import dev.flotilla.proto.raft.ReadIndexResponse;
import dev.flotilla.proto.raft.SnapshotMetadata;
import dev.flotilla.proto.raft.TimeoutNow;
import dev.flotilla.proto.raft.TransferLeader;
import dev.flotilla.proto.raft.VoteRequest;
import dev.flotilla.proto.raft.VoteResponse;
import dev.flotilla.raft.core.ConfChange;
import dev.flotilla.raft.core.ConfState;
import dev.flotilla.raft.core.Entry;
import dev.flotilla.raft.core.Message;
import dev.flotilla.raft.core.Snapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * Maps the core's {@link Message} records to {@code flotilla.raft} protobuf messages and back.
 *
 * <p>Encoding wraps the core's byte arrays without copying them (the core never mutates an entry's
 * data once built); decoding copies, so decoded messages own their arrays. Decoding a message
 * that no encoder produces (no body, an unknown entry type) throws {@link IllegalArgumentException}.
 */
public final class MessageCodec {

  private MessageCodec() {}

  public static RaftMessage encode(Message m) {
    RaftMessage.Builder b = RaftMessage.newBuilder().setFrom(m.from()).setTo(m.to()).setTerm(m.term());
    if (m instanceof Message.AppendEntries a) {
      AppendEntries.Builder body = AppendEntries.newBuilder()
          .setPrevIndex(a.prevIndex()).setPrevTerm(a.prevTerm()).setCommit(a.commit());
      for (Entry e : a.entries()) {
        body.addEntries(encode(e));
      }
      b.setAppend(body);
    } else if (m instanceof Message.AppendResponse r) {
      b.setAppendResponse(AppendResponse.newBuilder()
          .setIndex(r.index()).setReject(r.reject()).setRejectHint(r.rejectHint()).setHintTerm(r.hintTerm()));
    } else if (m instanceof Message.Heartbeat h) {
      Heartbeat.Builder body = Heartbeat.newBuilder().setCommit(h.commit());
      if (h.context() != null) {
        body.setContext(wrap(h.context()));
      }
      b.setHeartbeat(body);
    } else if (m instanceof Message.HeartbeatResponse h) {
      HeartbeatResponse.Builder body = HeartbeatResponse.newBuilder();
      if (h.context() != null) {
        body.setContext(wrap(h.context()));
      }
      b.setHeartbeatResponse(body);
    } else if (m instanceof Message.VoteRequest v) {
      b.setVote(VoteRequest.newBuilder()
          .setLastIndex(v.lastIndex()).setLastTerm(v.lastTerm()).setPreVote(v.preVote()).setTransfer(v.transfer()));
    } else if (m instanceof Message.VoteResponse v) {
      b.setVoteResponse(VoteResponse.newBuilder().setReject(v.reject()).setPreVote(v.preVote()));
    } else if (m instanceof Message.InstallSnapshot s) {
      b.setInstallSnapshot(InstallSnapshot.newBuilder().setSnapshot(encode(s.snapshot())));
    } else if (m instanceof Message.TimeoutNow) {
      b.setTimeoutNow(TimeoutNow.getDefaultInstance());
    } else if (m instanceof Message.TransferLeader t) {
      b.setTransferLeader(TransferLeader.newBuilder().setTransferee(t.transferee()));
    } else if (m instanceof Message.ReadIndexRequest r) {
      b.setReadIndex(ReadIndexRequest.newBuilder().setContext(wrap(r.context())));
    } else if (m instanceof Message.ReadIndexResponse r) {
      b.setReadIndexResponse(ReadIndexResponse.newBuilder().setIndex(r.index()).setContext(wrap(r.context())));
    } else if (m instanceof Message.Propose pr) {
      var body = dev.flotilla.proto.raft.Propose.newBuilder();
      pr.data().forEach(d -> body.addData(wrap(d)));
      b.setPropose(body);
    } else {
      throw new IllegalArgumentException("no wire form for " + m.getClass().getSimpleName());
    }
    return b.build();
  }

  public static Message decode(RaftMessage p) {
    long from = p.getFrom();
    long to = p.getTo();
    long term = p.getTerm();
    return switch (p.getBodyCase()) {
      case APPEND -> {
        AppendEntries a = p.getAppend();
        List<Entry> entries = new ArrayList<>(a.getEntriesCount());
        for (dev.flotilla.proto.raft.Entry e : a.getEntriesList()) {
          entries.add(decode(e));
        }
        yield new Message.AppendEntries(from, to, term, a.getPrevIndex(), a.getPrevTerm(), entries, a.getCommit());
      }
      case APPEND_RESPONSE -> {
        AppendResponse r = p.getAppendResponse();
        yield new Message.AppendResponse(from, to, term, r.getIndex(), r.getReject(), r.getRejectHint(), r.getHintTerm());
      }
      case HEARTBEAT -> new Message.Heartbeat(from, to, term, p.getHeartbeat().getCommit(),
          p.getHeartbeat().hasContext() ? p.getHeartbeat().getContext().toByteArray() : null);
      case HEARTBEAT_RESPONSE -> new Message.HeartbeatResponse(from, to, term,
          p.getHeartbeatResponse().hasContext() ? p.getHeartbeatResponse().getContext().toByteArray() : null);
      case VOTE -> {
        VoteRequest v = p.getVote();
        yield new Message.VoteRequest(from, to, term, v.getLastIndex(), v.getLastTerm(), v.getPreVote(), v.getTransfer());
      }
      case VOTE_RESPONSE -> new Message.VoteResponse(from, to, term, p.getVoteResponse().getReject(),
          p.getVoteResponse().getPreVote());
      case INSTALL_SNAPSHOT -> new Message.InstallSnapshot(from, to, term, decode(p.getInstallSnapshot().getSnapshot()));
      case TIMEOUT_NOW -> new Message.TimeoutNow(from, to, term);
      case TRANSFER_LEADER -> new Message.TransferLeader(from, to, term, p.getTransferLeader().getTransferee());
      case READ_INDEX -> new Message.ReadIndexRequest(from, to, term, p.getReadIndex().getContext().toByteArray());
      case READ_INDEX_RESPONSE -> new Message.ReadIndexResponse(from, to, term, p.getReadIndexResponse().getIndex(),
          p.getReadIndexResponse().getContext().toByteArray());
      case PROPOSE -> {
        List<byte[]> data = new ArrayList<>(p.getPropose().getDataCount());
        p.getPropose().getDataList().forEach(d -> data.add(d.toByteArray()));
        yield new Message.Propose(from, to, term, data);
      }
      case BODY_NOT_SET -> throw new IllegalArgumentException("raft message from " + from + " to " + to + " has no body");
    };
  }

  public static dev.flotilla.proto.raft.Entry encode(Entry e) {
    return dev.flotilla.proto.raft.Entry.newBuilder()
        .setIndex(e.index()).setTerm(e.term())
        .setType(e.type() == Entry.Type.CONF_CHANGE ? EntryType.ENTRY_CONF_CHANGE : EntryType.ENTRY_NORMAL)
        .setData(wrap(e.data()))
        .build();
  }

  public static Entry decode(dev.flotilla.proto.raft.Entry e) {
    Entry.Type type = switch (e.getType()) {
      case ENTRY_NORMAL -> Entry.Type.NORMAL;
      case ENTRY_CONF_CHANGE -> Entry.Type.CONF_CHANGE;
      case UNRECOGNIZED -> throw new IllegalArgumentException("entry " + e.getIndex() + " has unknown type "
          + e.getTypeValue());
    };
    return new Entry(e.getIndex(), e.getTerm(), type, e.getData().toByteArray());
  }

  public static dev.flotilla.proto.raft.Snapshot encode(Snapshot s) {
    return dev.flotilla.proto.raft.Snapshot.newBuilder().setMetadata(metadata(s)).setData(wrap(s.data())).build();
  }

  public static Snapshot decode(dev.flotilla.proto.raft.Snapshot s) {
    return withData(s.getMetadata(), s.getData().toByteArray());
  }

  /** The snapshot's index, term and membership, without its data. */
  public static SnapshotMetadata metadata(Snapshot s) {
    return SnapshotMetadata.newBuilder().setIndex(s.index()).setTerm(s.term()).setConfState(encode(s.confState())).build();
  }

  public static Snapshot withData(SnapshotMetadata meta, byte[] data) {
    return new Snapshot(meta.getIndex(), meta.getTerm(), decode(meta.getConfState()), data);
  }

  public static dev.flotilla.proto.raft.ConfState encode(ConfState c) {
    return dev.flotilla.proto.raft.ConfState.newBuilder().addAllVoters(c.voters()).addAllLearners(c.learners()).build();
  }

  public static ConfState decode(dev.flotilla.proto.raft.ConfState c) {
    return new ConfState(new TreeSet<>(c.getVotersList()), new TreeSet<>(c.getLearnersList()));
  }

  public static dev.flotilla.proto.raft.ConfChange encode(ConfChange c) {
    ConfChangeType type = switch (c.type()) {
      case ADD_VOTER -> ConfChangeType.CONF_CHANGE_ADD_VOTER;
      case ADD_LEARNER -> ConfChangeType.CONF_CHANGE_ADD_LEARNER;
      case REMOVE -> ConfChangeType.CONF_CHANGE_REMOVE;
    };
    return dev.flotilla.proto.raft.ConfChange.newBuilder().setType(type).setNodeId(c.nodeId()).build();
  }

  public static ConfChange decode(dev.flotilla.proto.raft.ConfChange c) {
    ConfChange.Type type = switch (c.getType()) {
      case CONF_CHANGE_ADD_VOTER -> ConfChange.Type.ADD_VOTER;
      case CONF_CHANGE_ADD_LEARNER -> ConfChange.Type.ADD_LEARNER;
      case CONF_CHANGE_REMOVE -> ConfChange.Type.REMOVE;
      case UNRECOGNIZED -> throw new IllegalArgumentException("unknown conf change type " + c.getTypeValue());
    };
    return new ConfChange(type, c.getNodeId());
  }

  private static ByteString wrap(byte[] bytes) {
    return bytes == null || bytes.length == 0 ? ByteString.EMPTY : UnsafeByteOperations.unsafeWrap(bytes);
  }
}
