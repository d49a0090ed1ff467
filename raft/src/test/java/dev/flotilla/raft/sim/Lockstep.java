package dev.flotilla.raft.sim;

import dev.flotilla.raft.core.ConfState;
import dev.flotilla.raft.core.Entry;
import dev.flotilla.raft.core.MemLogStore;
import dev.flotilla.raft.core.Message;
import dev.flotilla.raft.core.RaftConfig;
import dev.flotilla.raft.core.RawNode;
import dev.flotilla.raft.core.ReadState;
import dev.flotilla.raft.core.Ready;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * A synchronous harness for scenario tests (etcd's {@code network}): every Ready is handled at
 * once (persist, apply, send) and every message delivered in order until the cluster is quiet.
 * Links can be cut, members isolated or crashed, and messages dropped by a predicate. Every
 * message delivered is kept in {@link #delivered()} for assertions.
 */
public final class Lockstep {

  /** One member: its Raft state machine, disk, and what it applied. */
  public static final class Member {
    final long id;
    final MemLogStore store;
    final RaftConfig config;
    RawNode node;
    final List<Entry> applied = new ArrayList<>();
    final List<ReadState> readStates = new ArrayList<>();

    Member(long id, MemLogStore store, RaftConfig config) {
      this.id = id;
      this.store = store;
      this.config = config;
      this.node = new RawNode(config, store);
    }

    public RawNode node() {
      return node;
    }

    public MemLogStore store() {
      return store;
    }

    public List<Entry> applied() {
      return applied;
    }

    public List<ReadState> readStates() {
      return readStates;
    }
  }

  private final TreeMap<Long, Member> members = new TreeMap<>();
  private final Set<String> cut = new HashSet<>();
  private final Set<Long> down = new HashSet<>();
  private final List<Predicate<Message>> drops = new ArrayList<>();
  private final List<java.util.function.UnaryOperator<Message>> rewrites = new ArrayList<>();
  private final List<Message> delivered = new ArrayList<>();
  private final Random random = new Random(42);

  /** Adds a member over {@code store} with etcd's default settings (election 10, heartbeat 1) changed by {@code tune}. */
  public Member add(long id, MemLogStore store, java.util.function.UnaryOperator<RaftConfig> tune) {
    RaftConfig cfg = tune.apply(RaftConfig.defaults(id, new Random(random.nextLong())));
    Member m = new Member(id, store, cfg);
    members.put(id, m);
    return m;
  }

  /** A cluster of members {@code 1..n}, membership given out of band, empty logs. */
  public static Lockstep of(int n, java.util.function.UnaryOperator<RaftConfig> tune) {
    Lockstep ls = new Lockstep();
    List<Long> ids = new ArrayList<>();
    for (long i = 1; i <= n; i++) {
      ids.add(i);
    }
    for (long id : ids) {
      ls.add(id, MemLogStore.withMembership(ConfState.ofVoters(ids)), tune);
    }
    return ls;
  }

  /** A cluster of members {@code 1..n} whose logs start with the founding conf changes (as in production). */
  public static Lockstep bootstrapped(int n, java.util.function.UnaryOperator<RaftConfig> tune) {
    Lockstep ls = new Lockstep();
    List<Long> ids = new ArrayList<>();
    for (long i = 1; i <= n; i++) {
      ids.add(i);
    }
    for (long id : ids) {
      ls.add(id, MemLogStore.bootstrap(ids), tune);
    }
    ls.flush();
    return ls;
  }

  /** Rewrites (or, returning null, drops) messages before delivery; applied after {@link #dropIf}. */
  public void rewrite(java.util.function.UnaryOperator<Message> f) {
    rewrites.add(f);
  }

  public Member member(long id) {
    return members.get(id);
  }

  public RawNode node(long id) {
    return members.get(id).node;
  }

  public List<Message> delivered() {
    return delivered;
  }

  // ---- faults ---------------------------------------------------------------------------------

  public void cut(long a, long b) {
    cut.add(a + "-" + b);
    cut.add(b + "-" + a);
  }

  public void isolate(long id) {
    for (long other : members.keySet()) {
      if (other != id) {
        cut(id, other);
      }
    }
  }

  public void heal() {
    cut.clear();
    drops.clear();
    rewrites.clear();
  }

  public void dropIf(Predicate<Message> p) {
    drops.add(p);
  }

  /** Stops a member: it keeps its disk, loses everything else, and receives nothing until {@link #restart}. */
  public void crash(long id) {
    down.add(id);
  }

  public void restart(long id) {
    Member m = members.get(id);
    m.node = new RawNode(m.config, m.store);
    m.applied.clear();
    down.remove(id);
    flush();
  }

  // ---- driving --------------------------------------------------------------------------------

  public void tick(long id, int times) {
    for (int i = 0; i < times; i++) {
      node(id).tick();
      flush();
    }
  }

  /** Ticks every running member once, {@code times} times, flushing after each round. */
  public void tickAll(int times) {
    for (int i = 0; i < times; i++) {
      for (Member m : members.values()) {
        if (!down.contains(m.id)) {
          m.node.tick();
        }
      }
      flush();
    }
  }

  public void campaign(long id) {
    node(id).campaign();
    flush();
  }

  public long propose(long id, byte[] data) {
    long index = node(id).propose(data);
    flush();
    return index;
  }

  /** Handles every Ready and delivers every message until nothing moves. */
  public void flush() {
    ArrayDeque<Message> queue = new ArrayDeque<>();
    for (int rounds = 0; rounds < 100_000; rounds++) {
      boolean progressed = false;
      for (Member m : members.values()) {
        if (!down.contains(m.id) && m.node.hasReady()) {
          handle(m, m.node.ready(), queue);
          progressed = true;
        }
      }
      Message msg = queue.poll();
      if (msg != null) {
        progressed = true;
        for (java.util.function.UnaryOperator<Message> f : rewrites) {
          msg = msg == null ? null : f.apply(msg);
        }
        if (msg != null && deliverable(msg)) {
          delivered.add(msg);
          members.get(msg.to()).node.step(msg);
        }
      }
      if (!progressed) {
        return;
      }
    }
    throw new IllegalStateException("cluster did not settle in 100000 rounds");
  }

  private boolean deliverable(Message msg) {
    if (!members.containsKey(msg.to()) || down.contains(msg.to()) || cut.contains(msg.from() + "-" + msg.to())) {
      return false;
    }
    for (Predicate<Message> p : drops) {
      if (p.test(msg)) {
        return false;
      }
    }
    return true;
  }

  private void handle(Member m, Ready rd, ArrayDeque<Message> queue) {
    if (rd.snapshot() != null) {
      m.store.applySnapshot(rd.snapshot());
    }
    m.store.append(rd.entries());
    if (rd.hardState() != null) {
      m.store.setHardState(rd.hardState());
    }
    queue.addAll(rd.messages());
    m.applied.addAll(rd.committedEntries());
    m.readStates.addAll(rd.readStates());
    m.node.advance(rd);
  }

  /** Number of delivered messages of {@code type}. */
  public long count(Class<? extends Message> type) {
    return delivered.stream().filter(type::isInstance).count();
  }
}
