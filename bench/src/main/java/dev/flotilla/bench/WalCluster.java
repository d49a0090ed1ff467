package dev.flotilla.bench;

import dev.flotilla.raft.core.Entry;
import dev.flotilla.raft.core.LogStore;
import dev.flotilla.raft.core.RaftConfig;
import dev.flotilla.raft.core.Role;
import dev.flotilla.raft.core.Snapshot;
import dev.flotilla.raft.node.RaftNode;
import dev.flotilla.raft.node.RaftNodeOptions;
import dev.flotilla.raft.node.StateMachine;
import dev.flotilla.raft.storage.WalLogStore;
import dev.flotilla.raft.transport.GrpcTransport;
import dev.flotilla.raft.transport.GrpcTransportOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;

/**
 * Three {@link RaftNode}s in this JVM, each on a {@link WalLogStore} in its own directory and a
 * {@link GrpcTransport} on a free loopback port: the setup of raft's test-only {@code
 * ThreeNodeCluster}, which is package-private there, reduced to what a benchmark needs (no
 * restarts, a state machine that only counts).
 */
final class WalCluster implements AutoCloseable {

  static final List<Long> IDS = List.of(1L, 2L, 3L);

  /** Counts applied entries and keeps nothing, so a long run does not fill the heap. */
  private static final class Counter implements StateMachine {
    volatile long applied;

    @Override
    public void apply(Entry entry) {
      applied++;
    }

    @Override
    public byte[] snapshot() {
      return new byte[0];
    }

    @Override
    public void restore(Snapshot snapshot) {}
  }

  private final List<WalLogStore> stores = new ArrayList<>();
  private final List<RaftNode> nodes = new ArrayList<>();

  private WalCluster() {}

  /**
   * Starts the three members under {@code root} (one directory each), with {@code storeWrapper}
   * between each node and its WAL, and tells each the others' addresses.
   */
  static WalCluster start(Path root, UnaryOperator<LogStore> storeWrapper) throws IOException {
    WalCluster c = new WalCluster();
    try {
      for (long id : IDS) {
        WalLogStore store = WalLogStore.open(root.resolve("m" + id), WalLogStore.Options.defaults());
        c.stores.add(store);
        store.bootstrap(IDS);
        // etcd's defaults: 100 ms ticks, heartbeat every tick, election after 10-20 ticks
        RaftNodeOptions options = RaftNodeOptions.of(RaftConfig.defaults(id, new Random(id * 7919 + System.nanoTime())));
        c.nodes.add(RaftNode.start(options, storeWrapper.apply(store), new Counter(), handler -> {
          try {
            return GrpcTransport.start(id, new InetSocketAddress("127.0.0.1", 0), Map.of(), handler,
                GrpcTransportOptions.defaults());
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }));
      }
      for (RaftNode n : c.nodes) {
        for (RaftNode other : c.nodes) {
          if (other != n) {
            n.transport().addPeer(other.id(), "127.0.0.1:" + ((GrpcTransport) other.transport()).port());
          }
        }
      }
      return c;
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  /** Polls until one member leads and both others follow it. */
  RaftNode awaitLeader(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      for (RaftNode n : nodes) {
        if (n.view().role() == Role.LEADER && nodes.stream().allMatch(o -> o.view().lead() == n.id())) {
          return n;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("no leader followed by all three members within " + timeout + ": " + describe());
      }
      Thread.sleep(10);
    }
  }

  /** WAL syncs of the three nodes so far (one per Ready that needed one). */
  long nodeSyncs() {
    return nodes.stream().mapToLong(n -> n.readiesAndSyncs()[1]).sum();
  }

  String describe() {
    StringBuilder sb = new StringBuilder("[");
    for (RaftNode n : nodes) {
      RaftNode.View v = n.view();
      sb.append(n.id()).append(": ").append(v.role()).append(" term ").append(v.term()).append(" lead ")
          .append(v.lead()).append(" commit ").append(v.commit()).append(" applied ").append(v.applied());
      if (n.failure() != null) {
        sb.append(" failed: ").append(n.failure());
      }
      sb.append("; ");
    }
    return sb.append("]").toString();
  }

  @Override
  public void close() throws IOException {
    IOException first = null;
    for (RaftNode n : nodes) {
      n.close();
    }
    for (WalLogStore s : stores) {
      try {
        s.close();
      } catch (IOException e) {
        first = first == null ? e : first;
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
