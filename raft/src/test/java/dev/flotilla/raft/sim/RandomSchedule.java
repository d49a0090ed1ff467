package dev.flotilla.raft.sim;

import dev.flotilla.raft.core.ConfChange;
import dev.flotilla.raft.core.ConfState;
import dev.flotilla.raft.core.ReadOnlyOption;
import dev.flotilla.raft.core.Role;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

/**
 * One seeded chaos schedule: a 3- or 5-member cluster with randomly chosen settings runs a workload
 * (proposals, ReadIndex reads, leader transfers, membership changes) under faults (drops,
 * duplicates, long delays, partitions, crashes and restarts). Then the faults stop and the cluster
 * must converge: a leader, a final write committed and applied everywhere, identical state. Every
 * event is checked by the {@link InvariantChecker}. Everything is a function of the seed.
 */
public final class RandomSchedule {

  /** What one run did. */
  public record Result(long seed, int members, long events, long committed, long elections, long reads,
      int crashes, int confChanges, int snapshotsInstalled, int wipes) {}

  private static final long MS = 1_000;

  private final long seed;
  private final Random rnd;
  private final SimCluster cluster;
  private final int members;
  private long nextId;
  private int crashes;
  private int confChanges;
  private int proposals;
  private int readCount;
  private int wipes;
  /** The disk wipe being repaired (remove the old id, add a new member), or null. */
  private DiskWipe wipe;

  public RandomSchedule(long seed, Consumer<String> tracer) {
    this.seed = seed;
    this.rnd = new Random(seed ^ 0x5DEECE66DL);
    this.members = rnd.nextBoolean() ? 3 : 5;
    int inflight = 1 + rnd.nextInt(4);
    long sizePerMsg = rnd.nextBoolean() ? 100 : 1 << 20;
    SimOptions o = SimOptions.defaults()
        .withTicks(3 + rnd.nextInt(10), 1)
        .withPreVote(rnd.nextInt(4) != 0)
        .withCheckQuorum(rnd.nextInt(4) != 0)
        .withFlowControl(sizePerMsg, inflight, rnd.nextBoolean() ? 0 : 400)
        .withSnapshots(rnd.nextInt(3) == 0 ? 0 : 5 + rnd.nextInt(40), rnd.nextInt(6))
        .withReadOnlyOption(ReadOnlyOption.SAFE);
    this.cluster = SimCluster.of(seed, o, members);
    this.nextId = members + 1;
    if (tracer != null) {
      cluster.trace(tracer);
    }
  }

  public SimCluster cluster() {
    return cluster;
  }

  public Result run() {
    SimNetwork net = cluster.network();
    double drop = rnd.nextInt(4) == 0 ? 0 : rnd.nextDouble() * 0.15;
    double dup = rnd.nextInt(3) == 0 ? 0 : rnd.nextDouble() * 0.05;
    double longDelay = rnd.nextDouble() * 0.03;
    net.setFaults(new SimNetwork.Faults(drop, dup, longDelay, 100, 3_000 + rnd.nextInt(5_000), 80_000));

    cluster.crashAfterPersist(rnd.nextBoolean() ? 0 : rnd.nextDouble() * 0.02);
    long chaosMicros = (1_500 + rnd.nextInt(2_500)) * MS;
    long end = cluster.nowMicros() + chaosMicros;
    while (cluster.nowMicros() < end) {
      cluster.runFor((5 + rnd.nextInt(60)) * MS);
      act();
      retireRemoved();
      driveWipe();
    }
    converge();
    cluster.fullCheck();
    return new Result(seed, members, cluster.eventsRun(), cluster.checker().maxCommittedIndex(),
        cluster.checker().elections(), cluster.checker().readsChecked(), crashes + cluster.crashesAfterPersist(),
        confChanges, cluster.snapshotsInstalled(), wipes);
  }

  private void act() {
    int roll = rnd.nextInt(100);
    long leader = cluster.leader();
    if (roll < 45) {
      int n = 1 + rnd.nextInt(4);
      for (int i = 0; i < n; i++) {
        long target = leader != 0 && rnd.nextInt(10) < 8 ? leader : randomUp();
        if (target != 0) {
          byte[] data = new byte[1 + rnd.nextInt(60)];
          rnd.nextBytes(data);
          cluster.propose(target, data);
          proposals++;
        }
      }
    } else if (roll < 58) {
      long target = randomUp();
      if (target != 0) {
        cluster.readIndex(target, ("r" + seed + "-" + readCount++).getBytes(StandardCharsets.UTF_8));
      }
    } else if (roll < 62) {
      long victim = randomUp();
      if (victim != 0) {
        cluster.crash(victim);
        crashes++;
      }
    } else if (roll < 66) {
      // crash and come back quickly: whatever was not yet on disk (a vote, an ack) is forgotten
      long victim = rnd.nextBoolean() ? randomUp() : cluster.leader();
      if (victim != 0) {
        cluster.crash(victim);
        crashes++;
        cluster.schedule(rnd.nextInt(20_000), "bounce", () -> {
          SimNode n = cluster.node(victim);
          if (n.raft() == null && !n.retired) {
            cluster.restart(victim);
          }
        });
      }
    } else if (roll < 76) {
      long down = randomDown();
      if (down != 0) {
        cluster.restart(down);
      }
    } else if (roll < 82) {
      partition();
    } else if (roll < 87) {
      cluster.network().heal();
    } else if (roll < 90) {
      if (leader != 0) {
        List<Long> voters = new ArrayList<>(cluster.node(leader).raft().confState().voters());
        cluster.transferLeader(leader, voters.get(rnd.nextInt(voters.size())));
      }
    } else if (roll < 96) {
      if (leader != 0 && wipe == null) {
        changeMembership(leader);
      }
    } else if (roll < 98) {
      if (leader != 0 && wipe == null && wipes < 2) {
        startWipe(leader);
      }
    }
    // else: let it run
  }

  private void changeMembership(long leader) {
    ConfState cs = cluster.node(leader).raft().confState();
    int roll = rnd.nextInt(4);
    ConfChange cc;
    if (roll == 0 && nextId <= members + 3) {
      long id = nextId++;
      cluster.addNode(id);
      cc = rnd.nextBoolean() ? ConfChange.addLearner(id) : ConfChange.addVoter(id);
    } else if (roll == 1 && !cs.learners().isEmpty()) {
      cc = ConfChange.addVoter(cs.learners().first());
    } else if (roll >= 2 && cs.voters().size() > 2) {
      List<Long> voters = new ArrayList<>(cs.voters());
      cc = ConfChange.remove(voters.get(rnd.nextInt(voters.size())));
    } else {
      return;
    }
    if (cluster.proposeConfChange(leader, cc) > 0) {
      confChanges++;
    }
  }

  /** One disk wipe under repair: the old id must be removed, then the new member added (and promoted). */
  private static final class DiskWipe {
    final long oldId;
    final long newId;
    final boolean asLearner;
    boolean removed;
    boolean added;

    DiskWipe(long oldId, long newId, boolean asLearner) {
      this.oldId = oldId;
      this.newId = newId;
      this.asLearner = asLearner;
    }
  }

  /**
   * A member (voter or learner, possibly the leader, possibly down) loses its disk. Only when the
   * voters left running still form a majority of the leader's latest configuration, so that the
   * repair can commit.
   */
  private void startWipe(long leader) {
    dev.flotilla.raft.core.RawNode r = cluster.node(leader).raft();
    ConfState cs = r.confState();
    InvariantChecker checker = cluster.checker();
    // only in a settled membership: the leader has committed an entry of its term and its latest conf
    // change, so no other member's stale uncommitted change can commit later and need the lost member
    if (r.log().term(r.log().committed()) != r.term() || r.confIndex() > r.log().committed()
        || !cs.equals(checker.configAt(checker.maxCommittedIndex()))) {
      return;
    }
    // ... and every member agrees on it. A member holding a stale uncommitted change (say {1,3}
    // while the leader has {1,2,3}) would need the lost member to win an election, campaign for
    // ever at rising terms, and drop the live members' lower-term vote requests unanswered: with
    // neither pre-vote nor check-quorum that never resolves (seed 9001 before this check).
    for (long m : cs.voters()) {
      SimNode n = cluster.node(m);
      if (!n.isUp() || !n.raft().confState().equals(cs)) {
        return;
      }
    }
    List<Long> candidates = new ArrayList<>(cs.voters());
    candidates.addAll(cs.learners());
    long victim = candidates.get(rnd.nextInt(candidates.size()));
    int upVoters = 0;
    for (long v : cs.voters()) {
      if (v != victim && cluster.node(v).isUp()) {
        upVoters++;
      }
    }
    if (cs.voters().size() < 3 && cs.isVoter(victim) || upVoters < cs.voters().size() / 2 + 1) {
      return; // the cluster cannot afford to lose it now
    }
    cluster.wipe(victim);
    wipes++;
    wipe = new DiskWipe(victim, nextId++, rnd.nextBoolean());
  }

  /**
   * The operator's repair of a wiped member, retried through whoever leads (a change is refused
   * while another is pending): remove the old id; once that committed, start a member with a new id
   * and an empty disk and add it (as a learner then promoted, or directly as a voter).
   */
  private void driveWipe() {
    if (wipe == null) {
      return;
    }
    InvariantChecker checker = cluster.checker();
    ConfState committed = checker.configAt(checker.maxCommittedIndex());
    long leader = cluster.leader();
    ConfState latest = leader == 0 ? null : cluster.node(leader).raft().confState();
    if (!wipe.removed) {
      if (!committed.isMember(wipe.oldId)) {
        wipe.removed = true;
      } else {
        if (latest != null && latest.isMember(wipe.oldId)
            && cluster.proposeConfChange(leader, ConfChange.remove(wipe.oldId)) > 0) {
          confChanges++;
        }
        return;
      }
    }
    if (!wipe.added) {
      cluster.addNode(wipe.newId);
      wipe.added = true;
    }
    if (committed.isVoter(wipe.newId)) {
      wipe = null; // repaired
      return;
    }
    if (latest == null) {
      return;
    }
    ConfChange cc = null;
    if (!latest.isMember(wipe.newId)) {
      cc = wipe.asLearner ? ConfChange.addLearner(wipe.newId) : ConfChange.addVoter(wipe.newId);
    } else if (latest.isLearner(wipe.newId) && committed.isLearner(wipe.newId)) {
      cc = ConfChange.addVoter(wipe.newId);
    }
    if (cc != null && cluster.proposeConfChange(leader, cc) > 0) {
      confChanges++;
    }
  }

  /** Members whose removal has committed are shut down for good, as an operator would. */
  private void retireRemoved() {
    InvariantChecker checker = cluster.checker();
    ConfState committed = checker.configAt(checker.maxCommittedIndex());
    for (SimNode n : cluster.nodes()) {
      if (!n.retired && !committed.isMember(n.id) && checker.wasEverMember(n.id)) {
        cluster.retire(n.id);
      }
    }
  }

  private void partition() {
    List<Long> ids = new ArrayList<>();
    for (SimNode n : cluster.nodes()) {
      if (!n.retired) {
        ids.add(n.id);
      }
    }
    if (rnd.nextBoolean() && !ids.isEmpty()) {
      cluster.network().isolate(ids.get(rnd.nextInt(ids.size())));
      return;
    }
    List<Long> a = new ArrayList<>();
    List<Long> b = new ArrayList<>();
    for (long id : ids) {
      (rnd.nextBoolean() ? a : b).add(id);
    }
    cluster.network().partition(a.stream().mapToLong(Long::longValue).toArray(),
        b.stream().mapToLong(Long::longValue).toArray());
  }

  private long randomUp() {
    List<Long> up = new ArrayList<>();
    for (SimNode n : cluster.nodes()) {
      if (n.raft != null) {
        up.add(n.id);
      }
    }
    return up.isEmpty() ? 0 : up.get(rnd.nextInt(up.size()));
  }

  private long randomDown() {
    List<Long> down = new ArrayList<>();
    for (SimNode n : cluster.nodes()) {
      if (n.raft == null && !n.retired) {
        down.add(n.id);
      }
    }
    return down.isEmpty() ? 0 : down.get(rnd.nextInt(down.size()));
  }

  /** Stop all faults; the cluster must elect a leader, commit a write and converge everywhere. */
  private void converge() {
    cluster.network().heal();
    cluster.network().setFaults(SimNetwork.Faults.NONE);
    cluster.crashAfterPersist(0);
    for (SimNode n : cluster.nodes()) {
      if (n.raft == null && !n.retired) {
        cluster.restart(n.id);
      }
    }
    long deadline = cluster.nowMicros() + 20_000 * MS;
    byte[] marker = ("final-" + seed).getBytes(StandardCharsets.UTF_8);
    long index = -1;
    long proposedBy = 0;
    while (cluster.nowMicros() < deadline) {
      long leader = cluster.awaitLeaderOrZero(deadline - cluster.nowMicros());
      if (leader == 0) {
        break;
      }
      if (index < 0 || proposedBy != leader || cluster.node(leader).raft().role() != Role.LEADER) {
        index = cluster.propose(leader, marker);
        proposedBy = leader;
      }
      cluster.runFor(50 * MS);
      retireRemoved();
      driveWipe();
      if (wipe == null && index > 0 && converged(index)) {
        return;
      }
      if (cluster.leader() != proposedBy) {
        index = -1;
      }
    }
    throw new InvariantViolation("liveness: no convergence within 20 s after faults stopped"
        + (wipe == null ? "" : "; wiped member " + wipe.oldId + " not yet replaced by " + wipe.newId
            + (wipe.removed ? " (old id removed)" : " (old id still a member)"))
        + "; " + describe());
  }

  /** Every running member of the committed membership has applied the marker, all at the same index. */
  private boolean converged(long index) {
    long applied = -1;
    ConfState conf = cluster.checker().configAt(cluster.checker().maxCommittedIndex());
    if (cluster.checker().maxCommittedIndex() < index) {
      return false;
    }
    for (SimNode n : cluster.nodes()) {
      if (n.retired || !conf.isMember(n.id)) {
        continue;
      }
      if (n.raft == null || n.app.applied() < index) {
        return false;
      }
      if (applied >= 0 && n.app.applied() != applied) {
        return false;
      }
      applied = n.app.applied();
    }
    return applied >= index;
  }

  private String describe() {
    StringBuilder sb = new StringBuilder();
    for (SimNode n : cluster.nodes()) {
      sb.append("\n  member ").append(n.id);
      if (n.retired) {
        sb.append(n.wiped ? " wiped" : " retired");
      } else if (n.raft == null) {
        sb.append(" down");
      } else {
        sb.append(' ').append(n.raft.status()).append(" app=").append(n.app.applied());
      }
    }
    return sb.toString();
  }
}
