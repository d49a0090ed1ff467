package dev.flotilla.raft.node;

import static dev.flotilla.raft.testkit.Eventually.awaitDescribed;

import dev.flotilla.raft.core.Entry;
import dev.flotilla.raft.core.LogStore;
import dev.flotilla.raft.core.RaftConfig;
import dev.flotilla.raft.core.Role;
import dev.flotilla.raft.core.Snapshot;
import dev.flotilla.raft.storage.WalLogStore;
import dev.flotilla.raft.transport.GrpcTransport;
import dev.flotilla.raft.transport.GrpcTransportOptions;
import dev.flotilla.raft.wal.WalOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * Three {@link RaftNode}s in this JVM, each with a {@link WalLogStore} in its own directory and a
 * {@link GrpcTransport} on a loopback port, which members can be stopped and restarted (same
 * directory, same port). Used by the integration test and the throughput measurement.
 */
final class ThreeNodeCluster implements AutoCloseable {

  static final List<Long> IDS = List.of(1L, 2L, 3L);

  /** Records the payloads of applied NORMAL entries; its snapshot is that whole list. */
  static class Recorder implements StateMachine {
    private final List<String> values = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void apply(Entry entry) {
      if (entry.type() == Entry.Type.NORMAL && entry.data().length > 0) {
        values.add(new String(entry.data(), StandardCharsets.UTF_8));
      }
    }

    @Override
    public byte[] snapshot() {
      synchronized (values) {
        return String.join("\n", values).getBytes(StandardCharsets.UTF_8);
      }
    }

    @Override
    public void restore(Snapshot snapshot) {
      String s = new String(snapshot.data(), StandardCharsets.UTF_8);
      synchronized (values) {
        values.clear();
        if (!s.isEmpty()) {
          values.addAll(Arrays.asList(s.split("\n", -1)));
        }
      }
    }

    List<String> values() {
      synchronized (values) {
        return new ArrayList<>(values);
      }
    }
  }

  /**
   * A {@link Recorder} that {@link StateMachine#keepsOwnState keeps its own state}, as kvd's store
   * does: the instance outlives its member's restarts (it stands for a database on disk, durable at
   * every apply), and it counts the node's calls to persist and to encode it.
   */
  static final class DurableRecorder extends Recorder {
    private volatile long applied;
    final java.util.concurrent.atomic.AtomicInteger persists = new java.util.concurrent.atomic.AtomicInteger();
    final java.util.concurrent.atomic.AtomicInteger encodings = new java.util.concurrent.atomic.AtomicInteger();

    @Override
    public void apply(Entry entry) {
      super.apply(entry);
      applied = entry.index();
    }

    @Override
    public long appliedIndex() {
      return applied;
    }

    @Override
    public boolean keepsOwnState() {
      return true;
    }

    @Override
    public Runnable persistLater() {
      return persists::incrementAndGet;
    }

    @Override
    public byte[] snapshot() {
      encodings.incrementAndGet();
      return super.snapshot();
    }

    @Override
    public void restore(Snapshot snapshot) {
      super.restore(snapshot);
      applied = snapshot.index();
    }
  }

  final class Member {
    final long id;
    WalLogStore store;
    RaftNode node;
    Recorder app;

    Member(long id) {
      this.id = id;
    }

    boolean running() {
      return node != null;
    }

    GrpcTransport transport() {
      return (GrpcTransport) node.transport();
    }
  }

  private final Path root;
  private final Duration tick;
  private final long snapshotEvery;
  private final UnaryOperator<LogStore> storeWrapper;
  private final Map<Long, Member> members = new TreeMap<>();
  private final Map<Long, Integer> ports = new TreeMap<>();

  private final boolean ownState;

  ThreeNodeCluster(Path root, Duration tick, long snapshotEvery, UnaryOperator<LogStore> storeWrapper) {
    this(root, tick, snapshotEvery, storeWrapper, false);
  }

  /** With {@code ownState}, the members' applications are {@link DurableRecorder}s. */
  ThreeNodeCluster(Path root, Duration tick, long snapshotEvery, UnaryOperator<LogStore> storeWrapper,
      boolean ownState) {
    this.ownState = ownState;
    this.root = root;
    this.tick = tick;
    this.snapshotEvery = snapshotEvery;
    this.storeWrapper = storeWrapper;
    IDS.forEach(id -> members.put(id, new Member(id)));
  }

  /** Starts all three on free ports, then tells each the others' addresses. */
  void startAll() throws IOException {
    for (long id : IDS) {
      start(id);
    }
    for (Member m : members.values()) {
      for (long other : IDS) {
        if (other != m.id) {
          m.node.transport().addPeer(other, "127.0.0.1:" + ports.get(other));
        }
      }
    }
  }

  /** Starts (or restarts) a member from its directory, on its port once it has one. */
  void start(long id) throws IOException {
    Member m = members.get(id);
    if (m.running()) {
      throw new IllegalStateException("member " + id + " is running");
    }
    m.store = WalLogStore.open(root.resolve("m" + id),
        WalLogStore.Options.defaults().withWal(WalOptions.defaults().withSegmentBytes(1 << 20)));
    if (m.store.isEmpty()) {
      m.store.bootstrap(IDS);
    }
    if (!ownState) {
      m.app = new Recorder();
    } else if (m.app == null) {
      m.app = new DurableRecorder();
    }
    Map<Long, String> peers = new TreeMap<>();
    ports.forEach((peer, port) -> {
      if (peer != id) {
        peers.put(peer, "127.0.0.1:" + port);
      }
    });
    int port = ports.getOrDefault(id, 0);
    RaftConfig raft = RaftConfig.defaults(id, new Random(id * 7919 + System.nanoTime())).withTicks(10, 1);
    RaftNodeOptions options = new RaftNodeOptions(raft, tick, snapshotEvery, snapshotEvery / 4);
    m.node = RaftNode.start(options, storeWrapper.apply(m.store), m.app, handler -> {
      try {
        return GrpcTransport.start(id, new InetSocketAddress("127.0.0.1", port), peers, handler,
            GrpcTransportOptions.defaults());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    ports.put(id, m.transport().port());
  }

  void stop(long id) throws IOException {
    Member m = members.get(id);
    m.node.close();
    m.store.close();
    m.node = null;
  }

  Member member(long id) {
    return members.get(id);
  }

  List<Member> running() {
    return members.values().stream().filter(Member::running).collect(Collectors.toList());
  }

  /** Waits for a member that leads and that a majority of the running members follow. */
  Member awaitLeader(Duration timeout) {
    Member[] found = new Member[1];
    awaitDescribed(timeout, "a leader", () -> {
      for (Member m : running()) {
        RaftNode.View v = m.node.view();
        if (v.role() == Role.LEADER
            && running().stream().filter(o -> o.node.view().lead() == m.id).count() >= 2) {
          found[0] = m;
          return true;
        }
      }
      return false;
    }, this::describe);
    return found[0];
  }

  /**
   * Proposes every value through whoever leads, keeping up to {@code window} proposals in flight,
   * and retries those dropped or lost to a leader change. Returns how many retries it took. A value
   * whose first attempt had an unknown outcome (a timeout) may end up applied twice.
   */
  int proposeAll(List<String> values, int window, Duration timeout) throws InterruptedException {
    ArrayDeque<String> todo = new ArrayDeque<>(values);
    LinkedHashMap<String, CompletableFuture<Long>> inFlight = new LinkedHashMap<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    int retries = 0;
    while (!todo.isEmpty() || !inFlight.isEmpty()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("proposals not committed within " + timeout + ": " + todo.size() + " to go, "
            + inFlight.size() + " in flight; " + describe());
      }
      if (!todo.isEmpty()) {
        Member leader = awaitLeader(Duration.ofSeconds(20));
        while (!todo.isEmpty() && inFlight.size() < window) {
          String v = todo.poll();
          inFlight.put(v, leader.node.propose(v.getBytes(StandardCharsets.UTF_8)).orTimeout(5, TimeUnit.SECONDS));
        }
      }
      Map.Entry<String, CompletableFuture<Long>> oldest = inFlight.entrySet().iterator().next();
      inFlight.remove(oldest.getKey());
      try {
        oldest.getValue().get();
      } catch (ExecutionException e) {
        retries++;
        todo.add(oldest.getKey());
      }
    }
    return retries;
  }

  /** Waits until every running member has applied the same index, at least {@code index}. */
  void awaitConverged(long index, Duration timeout) {
    awaitDescribed(timeout, "members applied up to " + index, () -> {
      List<Member> r = running();
      long first = r.get(0).node.view().applied();
      return first >= index && r.stream().allMatch(m -> m.node.view().applied() == first);
    }, this::describe);
  }

  String describe() {
    StringBuilder sb = new StringBuilder("[");
    for (Member m : members.values()) {
      sb.append(m.id).append(": ");
      if (!m.running()) {
        sb.append("stopped; ");
      } else {
        RaftNode.View v = m.node.view();
        sb.append(v.role()).append(" term ").append(v.term()).append(" lead ").append(v.lead())
            .append(" commit ").append(v.commit()).append(" applied ").append(v.applied()).append("; ");
      }
    }
    return sb.append("]").toString();
  }

  @Override
  public void close() throws IOException {
    for (Member m : members.values()) {
      if (m.running()) {
        stop(m.id);
      }
    }
  }
}
