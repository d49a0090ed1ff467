package dev.flotilla.raft.sim;

import dev.flotilla.raft.core.ConfChange;
import dev.flotilla.raft.core.Entry;
import dev.flotilla.raft.core.MemLogStore;
import dev.flotilla.raft.core.Message;
import dev.flotilla.raft.core.ProposalDroppedException;
import dev.flotilla.raft.core.RaftConfig;
import dev.flotilla.raft.core.RawNode;
import dev.flotilla.raft.core.ReadState;
import dev.flotilla.raft.core.Ready;
import dev.flotilla.raft.core.Role;
import dev.flotilla.raft.core.Snapshot;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A simulated Raft cluster driven by one seed: members run {@link RawNode}s on in-memory disks,
 * talk through a {@link SimNetwork}, tick on a {@link SimClock}, and every event is followed by
 * the {@link InvariantChecker}. Writing a Ready to disk takes simulated time; a crash during it
 * loses the Ready, and a restarted member comes back from its disk alone.
 *
 * <p>Reusable from other modules through raft's test-jar: scenario tests drive it step by step
 * ({@link #runFor}, {@link #runUntil}, {@link #crash}, {@link SimNetwork#partition}).
 */
public final class SimCluster {

  private final long seed;
  private final Random random;
  private final SimOptions options;
  private final SimClock clock = new SimClock();
  private final EventQueue events = new EventQueue(clock);
  private final SimNetwork network;
  private final InvariantChecker checker = new InvariantChecker();
  private final TreeMap<Long, SimNode> nodes = new TreeMap<>();
  private long eventsChecked;
  private Consumer<String> tracer;
  private int fullCheckEvery = 512;
  private double crashAfterPersist;
  private int snapshotsInstalled;
  private int crashesAfterPersist;

  public SimCluster(long seed, SimOptions options, List<Long> founders) {
    this.seed = seed;
    this.random = new Random(seed);
    this.options = options;
    this.network = new SimNetwork(events, random, this::deliver);
    for (long id : founders) {
      SimNode n = new SimNode(id, MemLogStore.bootstrap(founders));
      nodes.put(id, n);
    }
    for (SimNode n : nodes.values()) {
      start(n);
    }
  }

  public static SimCluster of(long seed, SimOptions options, int members) {
    List<Long> ids = new ArrayList<>();
    for (long i = 1; i <= members; i++) {
      ids.add(i);
    }
    return new SimCluster(seed, options, ids);
  }

  public long seed() {
    return seed;
  }

  public Random random() {
    return random;
  }

  public SimOptions options() {
    return options;
  }

  public SimNetwork network() {
    return network;
  }

  public InvariantChecker checker() {
    return checker;
  }

  public long nowMicros() {
    return clock.nowMicros();
  }

  public long eventsRun() {
    return events.executed();
  }

  /** Prints every event (for replaying a failing seed). */
  public void trace(Consumer<String> out) {
    this.tracer = out;
  }

  public SimNode node(long id) {
    SimNode n = nodes.get(id);
    if (n == null) {
      throw new IllegalArgumentException("no member " + id + " in the simulation (members " + nodes.keySet() + ")");
    }
    return n;
  }

  public Collection<SimNode> nodes() {
    return nodes.values();
  }

  // ---- life cycle -----------------------------------------------------------------------------

  private void start(SimNode n) {
    RaftConfig cfg = new RaftConfig(n.id, options.electionTick(), options.heartbeatTick(), options.maxSizePerMsg(),
        options.maxInflightMsgs(), options.maxInflightBytes(), options.preVote(), options.checkQuorum(),
        options.readOnlyOption(), 0, new Random(random.nextLong()),
        n.id % 2 == 1); // odd members, as leaders, defer commit notices (announced at their ticks); even ones do not

    n.raft = new RawNode(cfg, n.disk);
    n.app = new SimStateMachine();
    Snapshot s = n.disk.snapshot();
    n.app.restore(s.index(), s.confState(), s.data());
    checker.onStart(n);
    scheduleTick(n, (long) (random.nextDouble() * options.tickMicros()));
    pump(n);
  }

  /** Adds a member with an empty disk; it takes part once a conf change adds it. */
  public SimNode addNode(long id) {
    if (nodes.containsKey(id)) {
      throw new IllegalArgumentException("member " + id + " exists already");
    }
    SimNode n = new SimNode(id, new MemLogStore());
    nodes.put(id, n);
    start(n);
    return n;
  }

  /** Kills a member: its Raft state, application and any unsynced Ready are lost; its disk stays. */
  public void crash(long id) {
    SimNode n = node(id);
    trace("crash " + id);
    n.raft = null;
    n.app = null;
    n.inflight = null;
    n.incarnation++;
  }

  public void restart(long id) {
    SimNode n = node(id);
    if (n.raft != null || n.retired) {
      throw new IllegalStateException("member " + id + " is " + (n.retired ? "retired" : "running"));
    }
    trace("restart " + id);
    start(n);
  }

  /** Shuts a member down for good (after its removal from the membership). */
  public void retire(long id) {
    SimNode n = node(id);
    if (n.raft != null) {
      crash(id);
    }
    n.retired = true;
  }

  /**
   * The member loses its disk: it is killed and never comes back under this id (an empty disk
   * under an old id could vote twice in a term or forget entries it helped commit). The operator
   * then removes the id with a conf change and adds a new member with a fresh id ({@link #addNode}).
   */
  public void wipe(long id) {
    SimNode n = node(id);
    trace("wipe " + id);
    retire(id);
    n.wiped = true;
  }

  /**
   * The UNSAFE procedure, for negative tests only: the member loses its disk and restarts under its
   * old id with an empty disk. The checker forgets what it knew of that member's disk (it is a new
   * disk), so only the cluster-wide invariants can catch what goes wrong.
   */
  public SimNode rejoinWithEmptyDiskUnsafe(long id) {
    SimNode old = node(id);
    if (old.raft != null) {
      crash(id);
    }
    trace("wipe " + id + " and restart it with an empty disk under the same id (unsafe)");
    old.retired = true;
    old.wiped = true;
    SimNode n = new SimNode(id, new MemLogStore());
    nodes.put(id, n);
    checker.forgetMember(id);
    start(n);
    return n;
  }

  // ---- inputs ---------------------------------------------------------------------------------

  private void scheduleTick(SimNode n, long delay) {
    int life = n.incarnation;
    events.schedule(delay, "tick", () -> {
      if (n.raft == null || n.incarnation != life) {
        return;
      }
      n.raft.tick();
      n.raft.announceCommit(); // RaftNode does this within a few ms; here the tick is the timer
      pump(n);
      // a little jitter: members' clocks do not tick in lockstep
      long jitter = (long) ((random.nextDouble() - 0.5) * options.tickMicros() * 0.1);
      scheduleTick(n, options.tickMicros() + jitter);
    });
  }

  private void deliver(Message m) {
    SimNode n = nodes.get(m.to());
    if (n == null || n.raft == null) {
      return;
    }
    if (tracer != null) {
      tracer.accept(String.format("%9d deliver %s", clock.nowMicros(), m));
    }
    n.raft.step(m);
    pump(n);
  }

  /** Proposes {@code data} on member {@code id}; the index it got, or -1 when the member refused. */
  public long propose(long id, byte[] data) {
    SimNode n = node(id);
    if (n.raft == null) {
      return -1;
    }
    try {
      long index = n.raft.propose(data);
      pump(n);
      return index;
    } catch (ProposalDroppedException e) {
      return -1;
    }
  }

  /** Proposes a conf change on {@code id}; the index it got, or -1 when refused. */
  public long proposeConfChange(long id, ConfChange cc) {
    SimNode n = node(id);
    if (n.raft == null) {
      return -1;
    }
    try {
      long index = n.raft.proposeConfChange(cc);
      trace("propose " + cc + " at " + index + " on " + id);
      checker.onConfChangeProposed(n, index);
      pump(n);
      return index;
    } catch (ProposalDroppedException | IllegalArgumentException e) {
      return -1;
    }
  }

  /** Asks member {@code id} for a ReadIndex; false when it refused. */
  public boolean readIndex(long id, byte[] context) {
    SimNode n = node(id);
    if (n.raft == null) {
      return false;
    }
    try {
      checker.onReadAsked(context);
      n.raft.readIndex(context);
      pump(n);
      return true;
    } catch (ProposalDroppedException e) {
      return false;
    }
  }

  public boolean transferLeader(long id, long to) {
    SimNode n = node(id);
    if (n.raft == null) {
      return false;
    }
    try {
      n.raft.transferLeader(to);
      pump(n);
      return true;
    } catch (ProposalDroppedException | IllegalArgumentException e) {
      return false;
    }
  }

  /** Runs {@code action} after {@code delayMicros} of simulated time (faults timed by a schedule). */
  public void schedule(long delayMicros, String label, Runnable action) {
    events.schedule(delayMicros, label, action);
  }

  /** Starts an election on {@code id} now. */
  public void campaign(long id) {
    SimNode n = node(id);
    n.raft.campaign();
    pump(n);
  }

  // ---- the Ready loop -------------------------------------------------------------------------

  /** Takes the member's next Ready, if any, and schedules its write to disk. */
  private void pump(SimNode n) {
    if (n.raft == null || n.inflight != null || !n.raft.hasReady()) {
      return;
    }
    Ready rd = n.raft.ready();
    n.inflight = rd;
    int life = n.incarnation;
    long delay = rd.mustSync()
        ? options.fsyncMinMicros() + (long) (random.nextDouble() * (options.fsyncMaxMicros() - options.fsyncMinMicros()))
        : 0;
    events.schedule(delay, "persist", () -> {
      if (n.incarnation == life) {
        handle(n, rd);
      }
    });
  }

  /** The disk write finished: persist, send, apply, advance (the order {@link Ready} prescribes). */
  private void handle(SimNode n, Ready rd) {
    long voteBefore = n.disk.hardState().vote();
    if (rd.snapshot() != null) {
      n.disk.applySnapshot(rd.snapshot());
    }
    n.disk.append(rd.entries());
    if (rd.hardState() != null) {
      n.disk.setHardState(rd.hardState());
    }
    n.disk.sync();
    checker.onPersisted(n);
    for (Message m : rd.messages()) {
      network.send(m);
    }
    if (rd.snapshot() != null) {
      snapshotsInstalled++;
      n.app.restore(rd.snapshot().index(), rd.snapshot().confState(), rd.snapshot().data());
      checker.onSnapshotApplied(n, rd.snapshot());
    }
    for (Entry e : rd.committedEntries()) {
      long before = n.app.applied();
      n.app.apply(e);
      checker.onApply(n, e, before);
    }
    for (ReadState rs : rd.readStates()) {
      checker.onReadState(n, rs);
    }
    n.inflight = null;
    n.raft.advance(rd);
    maybeSnapshot(n);
    // votes are where forgetting hurts most, so crash after a new vote far more often
    double p = rd.hardState() == null ? 0
        : rd.hardState().vote() != voteBefore && rd.hardState().vote() != 0 ? crashAfterPersist * 25 : crashAfterPersist;
    if (p > 0 && random.nextDouble() < p) {
      // die right after a write: what the write held must be enough (a vote, an ack, a commit)
      crashesAfterPersist++;
      crash(n.id);
      events.schedule((long) (random.nextDouble() * 3 * options.tickMicros()), "restart", () -> {
        if (n.raft == null && !n.retired) {
          restart(n.id);
        }
      });
      return;
    }
    pump(n);
  }

  /** Probability that a member crashes (and soon restarts) right after a Ready that changed its hard state. */
  public void crashAfterPersist(double probability) {
    this.crashAfterPersist = probability;
  }

  /** Snapshots members received from a leader and installed. */
  public int snapshotsInstalled() {
    return snapshotsInstalled;
  }

  public int crashesAfterPersist() {
    return crashesAfterPersist;
  }

  private void maybeSnapshot(SimNode n) {
    if (options.snapshotEvery() <= 0 || n.app.applied() - n.disk.snapshot().index() < options.snapshotEvery()) {
      return;
    }
    n.disk.createSnapshot(n.app.applied(), n.app.conf(), n.app.encode());
    long compactTo = n.app.applied() - options.keepAfterSnapshot();
    if (compactTo >= n.disk.firstIndex()) {
      n.disk.compact(compactTo);
    }
  }

  // ---- running --------------------------------------------------------------------------------

  /** Runs every event up to {@code micros} from now. */
  public void runFor(long micros) {
    long until = clock.nowMicros() + micros;
    while (true) {
      String label = events.runNext(until);
      if (label == null) {
        break;
      }
      afterEvent();
    }
    clock.advanceTo(until);
  }

  /** Runs until {@code done} holds (checked after each event) or {@code maxMicros} pass; returns whether it held. */
  public boolean runUntil(BooleanSupplier done, long maxMicros) {
    long until = clock.nowMicros() + maxMicros;
    while (!done.getAsBoolean()) {
      String label = events.runNext(until);
      if (label == null) {
        clock.advanceTo(until);
        return done.getAsBoolean();
      }
      afterEvent();
    }
    return true;
  }

  private void afterEvent() {
    checker.afterEvent(nodes.values());
    if (++eventsChecked % fullCheckEvery == 0) {
      checker.fullCheck(nodes.values());
    }
  }

  /** Runs the expensive whole-log comparison now. */
  public void fullCheck() {
    checker.fullCheck(nodes.values());
  }

  private void trace(String s) {
    if (tracer != null) {
      tracer.accept(String.format("%9d %s", clock.nowMicros(), s));
    }
  }

  // ---- observations ---------------------------------------------------------------------------

  /** The running leader with the highest term, 0 if none. */
  public long leader() {
    long best = 0;
    long bestTerm = -1;
    for (SimNode n : nodes.values()) {
      if (n.raft != null && n.raft.role() == Role.LEADER && n.raft.term() > bestTerm) {
        best = n.id;
        bestTerm = n.raft.term();
      }
    }
    return best;
  }

  /** Runs until some member leads; its id, or 0 if none within {@code maxMicros}. */
  public long awaitLeaderOrZero(long maxMicros) {
    runUntil(() -> leader() != 0, maxMicros);
    return leader();
  }

  /** Runs until some member leads; its id (fails the test if none within {@code maxMicros}). */
  public long awaitLeader(long maxMicros) {
    if (!runUntil(() -> leader() != 0, maxMicros)) {
      throw new InvariantViolation("no leader within " + maxMicros / 1000 + " ms");
    }
    return leader();
  }
}
