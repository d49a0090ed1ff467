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
      int crashes, int confChanges, int snapshotsInstalled) {}

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
    }
    converge();
    cluster.fullCheck();
    return new Result(seed, members, cluster.eventsRun(), cluster.checker().maxCommittedIndex(),
        cluster.checker().elections(), cluster.checker().readsChecked(), crashes + cluster.crashesAfterPersist(),
        confChanges, cluster.snapshotsInstalled());
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
      if (leader != 0) {
        changeMembership(leader);
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
      if (index > 0 && converged(index)) {
        return;
      }
      if (cluster.leader() != proposedBy) {
        index = -1;
      }
    }
    throw new InvariantViolation("liveness: no convergence within 20 s after faults stopped; " + describe());
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
        sb.append(" retired");
      } else if (n.raft == null) {
        sb.append(" down");
      } else {
        sb.append(' ').append(n.raft.status()).append(" app=").append(n.app.applied());
      }
    }
    return sb.toString();
  }
}
