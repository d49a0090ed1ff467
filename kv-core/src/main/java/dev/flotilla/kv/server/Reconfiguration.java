package dev.flotilla.kv.server;

import dev.flotilla.proto.store.MemberRecord;
import dev.flotilla.raft.core.ConfChange;
import dev.flotilla.raft.core.Progress;
import dev.flotilla.raft.core.Status;
import java.net.URI;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Membership changes as etcd 3.4's v3 Cluster service makes them, on the leader: the checks (IDs,
 * peer URLs, learners, and {@code --strict-reconfig-check}'s quorum protection) and then the Raft
 * conf change (add, remove, promote) or the member-record update. Refusals carry etcd's words
 * ({@link Refusal}); the API layer maps them to its status codes.
 *
 * <p>etcd's strict check counts a peer as healthy when its stream has been up for 5 s; here a
 * voter is healthy when the leader's Raft progress for it has left {@link Progress.State#PROBE}
 * (it answered the leader: it is being replicated to or sent a snapshot); a member never started,
 * or gone, stays in or falls back to PROBE.
 */
public final class Reconfiguration {
  /** etcd 3.4 allows one learner at a time (membership.maxLearners). */
  static final int MAX_LEARNERS = 1;
  /** etcd's readyPercent: a learner within 90% of the leader's log may be promoted. */
  static final double LEARNER_READY = 0.9;

  /** Why a change was refused, with etcd's message. */
  public enum Refusal {
    MEMBER_EXISTS("etcdserver: member ID already exist"),
    PEER_URL_EXISTS("etcdserver: Peer URLs already exists"),
    MEMBER_NOT_FOUND("etcdserver: member not found"),
    ID_REMOVED("etcdserver: member ID removed (kvd derives a member's ID from its peer URLs and the cluster"
        + " token; a removed member's ID never comes back, so add the replacement with other peer URLs)"),
    NOT_LEARNER("etcdserver: can only promote a learner member"),
    LEARNER_NOT_READY("etcdserver: can only promote a learner member which is in sync with leader"),
    TOO_MANY_LEARNERS("etcdserver: too many learner members in cluster"),
    NOT_ENOUGH_STARTED("etcdserver: re-configuration failed due to not enough started members"),
    UNHEALTHY("etcdserver: unhealthy cluster"),
    NOT_LEADER("etcdserver: not leader"),
    SINGLE_NODE("etcdserver: this kvd runs a single-node store (started without peers in --initial-cluster);"
        + " membership changes need a clustered member");

    public final String message;

    Refusal(String message) {
      this.message = message;
    }
  }

  /** A change refused before anything was proposed. */
  public static final class RefusedException extends RuntimeException {
    private final Refusal refusal;

    RefusedException(Refusal refusal) {
      super(refusal.message, null, false, false);
      this.refusal = refusal;
    }

    public Refusal refusal() {
      return refusal;
    }
  }

  private final StoreMember member;

  public Reconfiguration(StoreMember member) {
    this.member = member;
  }

  /** The members sorted by ID, as etcd lists them. */
  public List<MemberRecord> members() {
    List<MemberRecord> list = new ArrayList<>(member.members());
    list.sort(Comparator.comparing(MemberRecord::getId, Long::compareUnsigned));
    return list;
  }

  /**
   * Adds a member with these peer URLs (a learner when asked); completes with its record once
   * applied. etcd's order: the quorum checks first, then the membership ones (its conf-change
   * validation), so a cluster with an unstarted voter answers "unhealthy cluster" to any add.
   */
  public CompletableFuture<MemberRecord> add(List<URI> peerUrls, boolean learner) {
    ReplicatedLog raft = leaderLog();
    return status(raft).thenCompose(st -> {
      ClusterMembers current = member.machine().members();
      if (!learner) {
        List<MemberRecord> voters = voters(current.list());
        long started = voters.stream().filter(m -> !m.getName().isEmpty()).count();
        if (started < quorum(voters.size() + 1)) {
          throw new RefusedException(Refusal.NOT_ENOUGH_STARTED);
        }
      }
      if (!allVotersReachable(st, current.list())) {
        throw new RefusedException(Refusal.UNHEALTHY);
      }
      Refusal refusal = addRefusal(peerUrls);
      if (refusal != null) {
        throw new RefusedException(refusal);
      }
      long id = MemberIdentity.memberId(peerUrls, member.clusterToken());
      if (learner && current.list().stream().filter(MemberRecord::getLearner).count() + 1 > MAX_LEARNERS) {
        throw new RefusedException(Refusal.TOO_MANY_LEARNERS);
      }
      MemberRecord rec = MemberRecord.newBuilder().setId(id).setLearner(learner)
          .addAllPeerUrls(peerUrls.stream().map(URI::toString).toList()).build();
      return raft.addMember(rec).thenCompose(raft::awaitApplied).thenApply(v -> rec);
    });
  }

  /**
   * The membership checks of an add, without the quorum ones: taken peer URLs, a taken or removed
   * ID. Null when none refuses. A follower answers these itself before passing a request on.
   */
  public Refusal addRefusal(List<URI> peerUrls) {
    ClusterMembers current = member.machine().members();
    long id = MemberIdentity.memberId(peerUrls, member.clusterToken());
    // peer URLs before the ID: kvd derives the ID from them, and etcd names the URL
    for (MemberRecord m : current.list()) {
      for (URI u : peerUrls) {
        if (m.getPeerUrlsList().contains(u.toString())) {
          return Refusal.PEER_URL_EXISTS;
        }
      }
      if (m.getId() == id) {
        return Refusal.MEMBER_EXISTS;
      }
    }
    return current.wasRemoved(id) ? Refusal.ID_REMOVED : null;
  }

  /** The checks of an update of member {@code id}'s peer URLs: an unknown member, a URL another member has. */
  public Refusal updateRefusal(long id, List<URI> peerUrls) {
    ClusterMembers current = member.machine().members();
    if (current.get(id) == null) {
      return Refusal.MEMBER_NOT_FOUND;
    }
    for (MemberRecord m : current.list()) {
      for (URI u : peerUrls) {
        if (m.getId() != id && m.getPeerUrlsList().contains(u.toString())) {
          return Refusal.PEER_URL_EXISTS;
        }
      }
    }
    return null;
  }

  /** Removes a member; completes once applied here. */
  public CompletableFuture<Void> remove(long id) {
    requireMember(id);
    ReplicatedLog raft = leaderLog();
    ClusterMembers current = member.machine().members();
    MemberRecord target = current.get(id);
    if (target == null) {
      throw new RefusedException(Refusal.MEMBER_NOT_FOUND); // etcd: a removed ID is not found either
    }
    return status(raft).thenCompose(st -> {
      if (!target.getLearner()) {
        List<MemberRecord> voters = voters(current.list());
        long startedAfter = voters.stream().filter(m -> m.getId() != id && !m.getName().isEmpty()).count();
        if (startedAfter < quorum(voters.size() - 1)) {
          throw new RefusedException(Refusal.NOT_ENOUGH_STARTED);
        }
        boolean targetUp = id == member.identity().memberId() || reachable(st, id);
        if (targetUp) {
          long active = voters.stream().filter(m -> m.getId() == member.identity().memberId()
              || reachable(st, m.getId())).count();
          if (active - 1 < quorum(voters.size() - 1)) {
            throw new RefusedException(Refusal.UNHEALTHY);
          }
        }
      }
      return raft.removeMember(id).thenCompose(raft::awaitApplied);
    });
  }

  /** Replaces a member's peer URLs; completes with the new record once applied here. */
  public CompletableFuture<MemberRecord> update(long id, List<URI> peerUrls) {
    requireMember(id);
    ReplicatedLog raft = leaderLog();
    ClusterMembers current = member.machine().members();
    MemberRecord old = current.get(id);
    if (old == null) {
      throw new RefusedException(Refusal.MEMBER_NOT_FOUND);
    }
    Refusal refusal = updateRefusal(id, peerUrls);
    if (refusal != null) {
      throw new RefusedException(refusal);
    }
    MemberRecord rec = old.toBuilder().clearPeerUrls()
        .addAllPeerUrls(peerUrls.stream().map(URI::toString).toList()).build();
    return raft.updateMember(rec).thenApply(o -> rec);
  }

  /**
   * Promotes a learner that has caught up to a voter (a Raft ADD_VOTER for it). etcd's order: is the
   * member (if Raft tracks it) within 90% of the leader's log, enough started voters, and only
   * then does the member exist and is it a learner.
   */
  public CompletableFuture<MemberRecord> promote(long id) {
    requireMember(id);
    ReplicatedLog raft = leaderLog();
    return status(raft).thenCompose(st -> {
      Status.PeerProgress target = st.progress().get(id);
      Status.PeerProgress self = st.progress().get(member.identity().memberId());
      long leaderMatch = self != null ? self.match() : st.commit();
      if (target != null && target.match() < leaderMatch * LEARNER_READY) {
        throw new RefusedException(Refusal.LEARNER_NOT_READY);
      }
      ClusterMembers current = member.machine().members();
      List<MemberRecord> voters = voters(current.list());
      long started = voters.stream().filter(m -> !m.getName().isEmpty()).count();
      if (started < quorum(voters.size() + 1)) {
        throw new RefusedException(Refusal.NOT_ENOUGH_STARTED);
      }
      MemberRecord old = current.get(id);
      if (old == null) {
        throw new RefusedException(Refusal.MEMBER_NOT_FOUND);
      }
      if (!old.getLearner()) {
        throw new RefusedException(Refusal.NOT_LEARNER);
      }
      MemberRecord rec = old.toBuilder().setLearner(false).build();
      return raft.promoteMember(rec).thenCompose(raft::awaitApplied).thenApply(v -> rec);
    });
  }

  /** An unknown ID is not found, whatever else (a single-node store included). */
  private void requireMember(long id) {
    if (member.members().stream().noneMatch(m -> m.getId() == id)) {
      throw new RefusedException(Refusal.MEMBER_NOT_FOUND);
    }
  }

  private ReplicatedLog leaderLog() {
    ReplicatedLog raft = member.replicatedLog();
    if (raft == null) {
      throw new RefusedException(Refusal.SINGLE_NODE);
    }
    if (!raft.isLeader()) {
      throw new RefusedException(Refusal.NOT_LEADER);
    }
    return raft;
  }

  private static CompletableFuture<Status> status(ReplicatedLog raft) {
    return raft.node().status().orTimeout(5, TimeUnit.SECONDS);
  }

  private static List<MemberRecord> voters(List<MemberRecord> all) {
    return all.stream().filter(m -> !m.getLearner()).toList();
  }

  private static int quorum(int voters) {
    return voters / 2 + 1;
  }

  private boolean allVotersReachable(Status st, List<MemberRecord> all) {
    for (MemberRecord m : voters(all)) {
      if (m.getId() != member.identity().memberId() && !reachable(st, m.getId())) {
        return false;
      }
    }
    return true;
  }

  private static boolean reachable(Status st, long id) {
    Status.PeerProgress p = st.progress().get(id);
    return p != null && p.state() != Progress.State.PROBE;
  }
}
