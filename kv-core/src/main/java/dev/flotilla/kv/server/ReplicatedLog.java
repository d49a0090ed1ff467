package dev.flotilla.kv.server;

import dev.flotilla.proto.store.StoreCommand;
import dev.flotilla.raft.core.ConfChange;
import dev.flotilla.raft.core.Entry;
import dev.flotilla.raft.core.ProposalDroppedException;
import dev.flotilla.raft.core.Role;
import dev.flotilla.raft.core.Snapshot;
import dev.flotilla.raft.node.RaftNode;
import dev.flotilla.raft.node.StateMachine;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store's commands ordered by Raft: any member takes a proposal, the leader appends it (a
 * follower forwards it), and every member applies it to its own store. A proposal is tagged with a
 * request ID (8 bytes in front of the command) so that the member that took it recognises it when
 * it applies it, wherever it was appended, and answers its client with its own apply's outcome, as
 * etcd waits on its request IDs.
 *
 * <p>Threads: the node's loop thread persists, sends and applies (the state machine below runs on
 * it); clients wait on futures.
 */
public final class ReplicatedLog implements CommandLog {
  private static final Logger log = LoggerFactory.getLogger(ReplicatedLog.class);
  private static final int TAG_BYTES = 8;

  private final RaftNode node;
  private final StoreStateMachine machine;
  private final Duration requestTimeout;
  private final Map<Long, CompletableFuture<ApplyOutcome>> waiting;
  /** Unique per process run: a random high half, a counter below. */
  private final AtomicLong nextTag = new AtomicLong(ThreadLocalRandom.current().nextLong() & 0xFFFF_FFFF_0000_0000L);
  private final StoreMetrics metrics;

  private final java.io.Closeable logStore;
  private final Applier applier;

  private ReplicatedLog(RaftNode node, StoreStateMachine machine, Duration requestTimeout, StoreMetrics metrics,
      java.io.Closeable logStore, Applier applier) {
    this.logStore = logStore;
    this.applier = applier;
    this.waiting = applier.waiting;
    this.node = node;
    this.machine = machine;
    this.requestTimeout = requestTimeout;
    this.metrics = metrics;
  }

  /**
   * The Raft state machine over the store. Entries: normal ones carry a tag and a command (the
   * leader's empty entry none); conf changes reach the store as member removals, so that the member
   * list follows the Raft membership.
   *
   * <p>The node's loop hands committed entries over and goes on (persisting, sending); the
   * {@code apply} thread writes them to the store, all that waited while it wrote in one RocksDB
   * write, and answers the proposers. Snapshots and restores first wait for it to catch up; reads
   * that must see everything up to an index wait with {@link #awaitApplied}.
   */
  static final class Applier implements StateMachine, AutoCloseable {
    private final StoreStateMachine machine;
    private final StoreMetrics metrics;
    private final Consumer<Long> onRemoved;
    /** Proposals taken here, by tag, until their entry is applied. */
    final Map<Long, CompletableFuture<ApplyOutcome>> waiting = new ConcurrentHashMap<>();
    private final java.util.concurrent.LinkedBlockingQueue<List<Entry>> queue =
        new java.util.concurrent.LinkedBlockingQueue<>();
    /**
     * Reads waiting for an index to be applied (guarded by itself). One lock, not a concurrent map
     * of concurrent lists: a reader adding itself to an index's list while the apply thread took
     * that list out and completed it was left waiting until its client's timeout.
     */
    private final java.util.TreeMap<Long, List<CompletableFuture<Void>>> readers = new java.util.TreeMap<>();
    /** Entries handed over and not yet written (guarded by this). */
    private long handedOver;
    private volatile Throwable failure;
    private final Thread thread;

    Applier(StoreStateMachine machine, StoreMetrics metrics, Consumer<Long> onRemoved) {
      this.machine = machine;
      this.metrics = metrics;
      this.onRemoved = onRemoved;
      this.thread = new Thread(this::run, "apply");
      this.thread.setDaemon(true);
      this.thread.start();
    }

    @Override
    public void apply(Entry entry) {
      applyAll(List.of(entry));
    }

    @Override
    public void applyAll(List<Entry> entries) {
      if (failure != null) {
        throw new IllegalStateException("applying to the store failed earlier", failure);
      }
      synchronized (this) {
        handedOver += entries.size();
      }
      queue.add(List.copyOf(entries));
    }

    private void run() {
      List<List<Entry>> groups = new ArrayList<>();
      while (true) {
        try {
          groups.add(queue.take());
        } catch (InterruptedException e) {
          return;
        }
        queue.drainTo(groups);
        List<Entry> all = new ArrayList<>();
        groups.forEach(all::addAll);
        groups.clear();
        try {
          write(all);
        } catch (Throwable t) {
          log.error("applying entries {}..{} to the store failed; this member stops applying: {}",
              all.get(0).index(), all.get(all.size() - 1).index(), t.toString(), t);
          failure = t;
          waiting.values().forEach(f -> f.completeExceptionally(t));
          failReaders(t);
          synchronized (this) {
            notifyAll();
          }
          return;
        }
        synchronized (this) {
          handedOver -= all.size();
          notifyAll();
        }
        releaseReaders();
      }
    }

    private void write(List<Entry> entries) {
      List<StoreStateMachine.Entry> batch = new ArrayList<>(entries.size());
      long[] tags = new long[entries.size()];
      List<Long> removed = new ArrayList<>();
      for (int i = 0; i < entries.size(); i++) {
        Entry e = entries.get(i);
        byte[] command = new byte[0];
        if (e.isConfChange()) {
          ConfChange cc = ConfChange.decode(e.data());
          if (cc.type() == ConfChange.Type.REMOVE) {
            command = StoreCommand.newBuilder().setMemberRemove(cc.nodeId()).build().toByteArray();
            removed.add(cc.nodeId());
          } else {
            command = ConfChange.context(e.data()); // the new member's record, as a member_add command
          }
        } else if (e.data().length >= TAG_BYTES) {
          tags[i] = ByteBuffer.wrap(e.data()).getLong();
          command = java.util.Arrays.copyOfRange(e.data(), TAG_BYTES, e.data().length);
        }
        batch.add(new StoreStateMachine.Entry(e.index(), command));
      }
      long t0 = System.nanoTime();
      List<ApplyOutcome> outcomes = machine.applyBatch(batch);
      metrics.apply.observe(StoreMetrics.seconds((System.nanoTime() - t0) / Math.max(1, batch.size())));
      for (int i = 0; i < outcomes.size(); i++) {
        if (tags[i] != 0) {
          CompletableFuture<ApplyOutcome> f = waiting.remove(tags[i]);
          if (f != null) {
            f.complete(outcomes.get(i));
          }
        }
      }
      removed.forEach(onRemoved);
    }

    /** Completes once the store has applied up to {@code index}. */
    CompletableFuture<Void> awaitApplied(long index) {
      if (machine.appliedIndex() >= index) {
        return CompletableFuture.completedFuture(null);
      }
      CompletableFuture<Void> f = new CompletableFuture<>();
      synchronized (readers) {
        readers.computeIfAbsent(index, k -> new ArrayList<>()).add(f);
      }
      releaseReaders(); // it may have been applied meanwhile
      Throwable failed = failure;
      if (failed != null) {
        failReaders(failed);
      }
      return f;
    }

    private void releaseReaders() {
      List<CompletableFuture<Void>> ready = new ArrayList<>();
      synchronized (readers) {
        var upTo = readers.headMap(machine.appliedIndex(), true);
        upTo.values().forEach(ready::addAll);
        upTo.clear();
      }
      ready.forEach(f -> f.complete(null));
    }

    private void failReaders(Throwable t) {
      List<CompletableFuture<Void>> all = new ArrayList<>();
      synchronized (readers) {
        readers.values().forEach(all::addAll);
        readers.clear();
      }
      all.forEach(f -> f.completeExceptionally(t));
    }

    /** Waits until everything handed over is in the store (before a snapshot or a restore). */
    private synchronized void drain() {
      while (handedOver > 0 && failure == null) {
        try {
          wait(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while the store caught up", e);
        }
      }
      if (failure != null) {
        throw new IllegalStateException("applying to the store failed", failure);
      }
    }

    @Override
    public byte[] snapshot() {
      drain();
      return machine.snapshotState();
    }

    /** The store once the apply thread has caught up, captured now and encoded by the supplier. */
    @Override
    public java.util.function.Supplier<byte[]> snapshotLater() {
      drain();
      return machine.snapshotStateLater();
    }

    /** The store is the snapshot: periodic snapshots only flush it (see StateMachine#keepsOwnState). */
    @Override
    public boolean keepsOwnState() {
      return true;
    }

    /** Once the apply thread has caught up, the flush that makes the store durable up to here. */
    @Override
    public Runnable persistLater() {
      drain();
      return machine::flushStore;
    }

    @Override
    public void restore(Snapshot snapshot) {
      drain();
      log.info("restoring the store from a snapshot at index {} ({} bytes)", snapshot.index(), snapshot.data().length);
      machine.restoreState(snapshot.data());
      releaseReaders();
    }

    @Override
    public long appliedIndex() {
      return machine.appliedIndex();
    }

    /** Stops the apply thread once what was handed over is written (after the node stopped). */
    @Override
    public void close() {
      try {
        drain();
      } catch (RuntimeException e) {
        // already reported
      }
      thread.interrupt();
      try {
        thread.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Wraps a started node; {@code applier} must be the state machine the node was started with. */
  static ReplicatedLog over(RaftNode node, Applier applier, StoreStateMachine machine, Duration requestTimeout,
      StoreMetrics metrics, java.io.Closeable logStore) {
    ReplicatedLog l = new ReplicatedLog(node, machine, requestTimeout, metrics, logStore, applier);
    metrics.bind(l, machine::appliedIndex, () -> machine.store().revision(), l.waiting::size);
    metrics.bindRaft(node::leaderChanges);
    return l;
  }

  @Override
  public CompletableFuture<ApplyOutcome> propose(byte[] command) {
    long tag = nextTag.incrementAndGet();
    byte[] data = ByteBuffer.allocate(TAG_BYTES + command.length).putLong(tag).put(command).array();
    CompletableFuture<ApplyOutcome> f = new CompletableFuture<>();
    waiting.put(tag, f);
    node.proposeOrForward(data).whenComplete((v, err) -> {
      if (err != null) {
        waiting.remove(tag);
        metrics.proposalsFailed.inc();
        f.completeExceptionally(clientFailure(err));
      }
    });
    return f.orTimeout(requestTimeout.toMillis(), TimeUnit.MILLISECONDS).whenComplete((o, err) -> {
      if (err instanceof TimeoutException) {
        waiting.remove(tag);
        metrics.proposalsFailed.inc();
      }
    }).exceptionallyCompose(err -> CompletableFuture.failedFuture(clientFailure(err)));
  }

  /** What a client hears when its request failed here: etcd's words for a timeout and for no leader. */
  private static Throwable clientFailure(Throwable err) {
    Throwable cause = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
        ? err.getCause() : err;
    if (cause instanceof TimeoutException) {
      return new RequestTimeoutException("etcdserver: request timed out");
    }
    if (cause instanceof ProposalDroppedException) {
      return new RequestTimeoutException("etcdserver: no leader");
    }
    return cause;
  }

  @Override
  public CompletableFuture<Void> readBarrier() {
    return node.readIndex()
        .thenCompose(applier::awaitApplied)
        .orTimeout(requestTimeout.toMillis(), TimeUnit.MILLISECONDS)
        .exceptionallyCompose(err -> CompletableFuture.failedFuture(clientFailure(err)));
  }

  @Override
  public long committedIndex() {
    return node.view().commit();
  }

  @Override
  public long term() {
    return node.view().term();
  }

  @Override
  public boolean isLeader() {
    return node.view().role() == Role.LEADER;
  }

  @Override
  public long leader() {
    return node.view().lead();
  }

  /**
   * Adds a member (leader only): one conf change entry that carries the member's record, so the
   * Raft membership and the member list change at the same index. Completes once applied here.
   */
  public CompletableFuture<Long> addMember(dev.flotilla.proto.store.MemberRecord member) {
    byte[] context = StoreCommand.newBuilder().setMemberAdd(member).build().toByteArray();
    ConfChange cc = member.getLearner() ? ConfChange.addLearner(member.getId()) : ConfChange.addVoter(member.getId());
    return node.proposeConfChange(cc, context).orTimeout(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Completes once this member's store has applied up to {@code index}. */
  public CompletableFuture<Void> awaitApplied(long index) {
    return applier.awaitApplied(index);
  }

  /** Promotes a learner to voter (leader only): an ADD_VOTER conf change carrying its updated record. */
  public CompletableFuture<Long> promoteMember(dev.flotilla.proto.store.MemberRecord member) {
    byte[] context = StoreCommand.newBuilder().setMemberAdd(member).build().toByteArray();
    return node.proposeConfChange(ConfChange.addVoter(member.getId()), context)
        .orTimeout(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Asks Raft to hand leadership to {@code to} (leader only); completes when the request is taken. */
  public CompletableFuture<Void> transferLeader(long to) {
    return node.transferLeader(to);
  }

  /** Replaces a member's peer URLs (leader or follower: a normal command). */
  public CompletableFuture<ApplyOutcome> updateMember(dev.flotilla.proto.store.MemberRecord member) {
    return propose(StoreCommand.newBuilder().setMemberAdd(member).build().toByteArray());
  }

  /** Removes a member (leader only); completes once applied here. */
  public CompletableFuture<Long> removeMember(long id) {
    return node.proposeConfChange(ConfChange.remove(id)).orTimeout(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  public RaftNode node() {
    return node;
  }

  @Override
  public void close() {
    node.close();
    applier.close();
    try {
      logStore.close();
    } catch (java.io.IOException e) {
      log.warn("closing the Raft log failed: {}", e.toString());
    }
    var stopped = new IllegalStateException("the store is closing");
    waiting.values().forEach(f -> f.completeExceptionally(stopped));
    waiting.clear();
  }

  /** A request that got no answer in time, or found no leader: etcd's words, HTTP 500 / gRPC Unavailable. */
  public static final class RequestTimeoutException extends RuntimeException {
    public RequestTimeoutException(String message) {
      super(message, null, false, false);
    }
  }
}
