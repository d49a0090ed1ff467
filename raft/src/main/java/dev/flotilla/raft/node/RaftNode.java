package dev.flotilla.raft.node;

import dev.flotilla.raft.core.ConfChange;
import dev.flotilla.raft.core.ConfState;
import dev.flotilla.raft.core.Entry;
import dev.flotilla.raft.core.LogStore;
import dev.flotilla.raft.core.Message;
import dev.flotilla.raft.core.ProposalDroppedException;
import dev.flotilla.raft.core.RawNode;
import dev.flotilla.raft.core.ReadState;
import dev.flotilla.raft.core.Ready;
import dev.flotilla.raft.core.Role;
import dev.flotilla.raft.core.Snapshot;
import dev.flotilla.raft.core.Status;
import dev.flotilla.raft.transport.Transport;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The thin threaded shell around a {@link RawNode}: one loop thread owns the core and the store and
 * does, over and over, what {@link Ready} prescribes:
 *
 * <ol>
 *   <li>run the queued inputs (messages from the transport, proposals, reports) and the tick timer;</li>
 *   <li>take the Ready; a leader sends its messages at once (its followers write while it does);</li>
 *   <li>hand the committed entries already in the log store to the {@link StateMachine};</li>
 *   <li>persist the Ready's snapshot, entries and hard state, then <b>one</b>
 *       {@link LogStore#sync()} for all of it;</li>
 *   <li>a follower or candidate sends its messages only now (they may report what was just made
 *       durable: a vote, an ack);</li>
 *   <li>apply the rest of the committed entries, answer proposals and reads;</li>
 *   <li>advance, and take a snapshot when {@link RaftNodeOptions#snapshotEvery()} entries have been
 *       applied since the last: the state is captured here, encoded on the snapshot thread, and
 *       saved to the store by the loop when it comes back.</li>
 * </ol>
 *
 * Group commit falls out of this: inputs that arrive while a sync is under way wait in the queue,
 * and all of them go into the next Ready and share its sync.
 *
 * <p>Membership: the node removes a member from the transport's peer set when a conf change
 * removing it is applied. Adding a member's address to the transport ({@link #transport()}) is the
 * application's business, since only it knows the address; do it before proposing the change.
 *
 * <p>Public methods are thread-safe. The store is the caller's: open it before {@link #start} and
 * close it after {@link #close}. The transport is the node's: it is built with the node's handler
 * and closed with the node.
 */
public final class RaftNode implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(RaftNode.class);
  /** Inputs run per round before the next Ready, so that a flood of input cannot starve the output. */
  private static final int MAX_INPUTS_PER_ROUND = 10_000;
  /**
   * How long a leader that defers commit notices ({@link dev.flotilla.raft.core.RaftConfig#deferCommitNotice})
   * lets a commit wait for an append to carry it before it sends one for it alone: about two of
   * its rounds (an fsync each) under load, when the next proposals come within one; at low load it
   * is what a follower's serializable reads and watchers lag by (a follower's own forwarded
   * proposals are announced at once).
   */
  private static final long COMMIT_NOTICE_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

  /** What outsiders may read without going through the loop. */
  public record View(long id, long term, long lead, Role role, long commit, long applied) {}

  private record PendingProposal(long term, CompletableFuture<Long> future) {}

  /** A ReadIndex request not answered yet: asked at {@code startTick}, (re)sent at {@code sentTick}. */
  private record PendingRead(byte[] context, CompletableFuture<Long> future, long startTick, long sentTick) {}

  /** Bytes of a ReadIndex context: this member's ID, then the request's number. */
  private static final int READ_CONTEXT_BYTES = 16;

  private final RaftNodeOptions options;
  private final LogStore store;
  private final StateMachine app;
  private final RawNode raw;
  private final Transport transport;
  private final LinkedBlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>();
  private final Thread thread;
  private final long tickNanos;

  // loop-thread state
  private final Map<Long, PendingProposal> proposals = new HashMap<>();
  private final Map<Long, PendingRead> reads = new HashMap<>();
  private final TreeMap<Long, ArrayDeque<CompletableFuture<Long>>> readsWaitingForApply = new TreeMap<>();
  /**
   * Numbers this member's ReadIndex requests. The leader keeps every member's pending requests in
   * one queue keyed by context (etcd's readOnly), so a context must be unique across the cluster:
   * it carries our member ID, and the count starts at a random value so that a restarted member
   * cannot reuse a context still queued at the leader from its previous run.
   */
  private long nextReadId = java.util.concurrent.ThreadLocalRandom.current().nextLong();
  private long ticks;
  /** A commit index not yet sent to every follower (RaftConfig#deferCommitNotice) is announced at announceAt. */
  private boolean announcePending;
  private long announceAt;
  private final java.util.List<byte[]> forwardBatch = new java.util.ArrayList<>();
  private final java.util.List<CompletableFuture<Void>> forwardFutures = new java.util.ArrayList<>();
  private long applied;
  private ConfState appliedConf;
  /** A snapshot is being encoded on the snapshot thread (loop-thread state). */
  private boolean snapshotting;
  private final java.util.concurrent.ExecutorService snapshotter;
  private volatile long syncs;
  private volatile long readies;

  private volatile View view;
  private volatile boolean running = true;
  private volatile Throwable failure;

  private RaftNode(RaftNodeOptions options, LogStore store, StateMachine app,
      Function<Transport.Handler, Transport> transportFactory) {
    this.options = options;
    this.store = store;
    this.app = app;
    this.tickNanos = options.tick().toNanos();
    Snapshot snap = store.snapshot();
    long durable = app.appliedIndex();
    if (durable > store.lastIndex()) {
      throw new IllegalStateException("the application has applied up to " + durable + " but the log ends at "
          + store.lastIndex() + ": the log was lost or replaced");
    }
    if (!snap.isEmpty() && durable < snap.index()) {
      app.restore(snap);
      durable = snap.index();
    }
    if (durable > store.hardState().commit()) {
      // the application applied entries whose commit index was not synced yet: they were committed
      var hs = store.hardState();
      store.setHardState(new dev.flotilla.raft.core.HardState(hs.term(), hs.vote(), durable));
      store.sync();
    }
    this.applied = Math.max(durable, snap.index());
    this.appliedConf = confAt(store, snap, applied);
    this.raw = new RawNode(options.raft().withApplied(applied), store);
    this.transport = Objects.requireNonNull(transportFactory.apply(new Inbound()), "transport");
    publishView();
    this.thread = new Thread(this::run, "raft-node-" + options.raft().id());
    this.snapshotter = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "raft-snapshot-" + options.raft().id());
      t.setDaemon(true);
      return t;
    });
  }

  /** The membership in force after the entries up to {@code index} (the snapshot's, then conf changes). */
  private static ConfState confAt(LogStore store, Snapshot snap, long index) {
    ConfState conf = snap.confState();
    if (index > snap.index()) {
      for (Entry e : store.entries(snap.index() + 1, index + 1, Long.MAX_VALUE)) {
        if (e.isConfChange()) {
          conf = conf.apply(ConfChange.decode(e.data()));
        }
      }
    }
    return conf;
  }

  /**
   * Starts a member over {@code store} (already {@code bootstrap}ped for a founding member of a new
   * cluster, or recovered after a restart; the state machine is restored from its snapshot).
   *
   * @param transportFactory builds the transport given the handler it must deliver to
   */
  public static RaftNode start(RaftNodeOptions options, LogStore store, StateMachine app,
      Function<Transport.Handler, Transport> transportFactory) {
    RaftNode node = new RaftNode(options, store, app, transportFactory);
    node.thread.start();
    return node;
  }

  // ---- API ------------------------------------------------------------------------------------

  public long id() {
    return options.raft().id();
  }

  /**
   * Proposes {@code data}; the future completes with the entry's index once it is applied here, or
   * fails with {@link ProposalDroppedException} when this member is not leader (with a leader hint)
   * or the entry was lost to a leader change. A proposal that never commits never completes: use a
   * timeout.
   */
  public CompletableFuture<Long> propose(byte[] data) {
    Objects.requireNonNull(data, "data");
    CompletableFuture<Long> f = new CompletableFuture<>();
    submit(f, () -> track(raw.propose(data), f));
    return f;
  }

  /**
   * Proposes {@code data} here if this member leads, or forwards it to the leader; completes once it
   * is handed on (appended here or sent), not when it commits: the application recognises its
   * entries when they are applied (tag the data). Fails at once when no leader is known. Proposals
   * queued while the loop is busy go out together, as one batch.
   */
  public CompletableFuture<Void> proposeOrForward(byte[] data) {
    Objects.requireNonNull(data, "data");
    CompletableFuture<Void> f = new CompletableFuture<>();
    submit(f, () -> {
      forwardBatch.add(data);
      forwardFutures.add(f);
    });
    return f;
  }

  /** As {@link #propose}, for a membership change (one at a time; see {@link RawNode#proposeConfChange}). */
  public CompletableFuture<Long> proposeConfChange(ConfChange change) {
    return proposeConfChange(change, new byte[0]);
  }

  /** As {@link #proposeConfChange(ConfChange)}, with application bytes in the same entry ({@link ConfChange#context}). */
  public CompletableFuture<Long> proposeConfChange(ConfChange change, byte[] context) {
    Objects.requireNonNull(change, "change");
    CompletableFuture<Long> f = new CompletableFuture<>();
    submit(f, () -> track(raw.proposeConfChange(change, context), f));
    return f;
  }

  /**
   * A linearizable read point: completes with an index once this member has applied up to it, after
   * which reading the state machine here is linearizable. Fails at once when no leader is known. A
   * request that gets no answer within half an election timeout is sent again (to whoever leads
   * then; a lost message or a leader change must not cost the caller its whole timeout, as etcd
   * retries its ReadIndex); after {@link #READ_GIVE_UP_ELECTIONS} election timeouts it fails with a
   * {@link java.util.concurrent.TimeoutException}. Callers should still use their own timeout.
   */
  public CompletableFuture<Long> readIndex() {
    CompletableFuture<Long> f = new CompletableFuture<>();
    submit(f, () -> {
      long id = ++nextReadId;
      byte[] ctx = readContext(id(), id);
      raw.readIndex(ctx);
      reads.put(id, new PendingRead(ctx, f, ticks, ticks));
    });
    return f;
  }

  /** A pending read is abandoned after this many election timeouts without an answer. */
  static final int READ_GIVE_UP_ELECTIONS = 10;

  private static byte[] readContext(long member, long id) {
    return ByteBuffer.allocate(READ_CONTEXT_BYTES).putLong(member).putLong(id).array();
  }

  /** Asks for leadership to move to {@code to} (see {@link RawNode#transferLeader}). */
  public CompletableFuture<Void> transferLeader(long to) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    submit(f, () -> {
      raw.transferLeader(to);
      f.complete(null);
    });
    return f;
  }

  /** The core's full status, taken on the loop thread. */
  public CompletableFuture<Status> status() {
    CompletableFuture<Status> f = new CompletableFuture<>();
    submit(f, () -> f.complete(raw.status()));
    return f;
  }

  /** Term, leader, role, commit and applied index as of the end of the last loop round. */
  public View view() {
    return view;
  }

  public Transport transport() {
    return transport;
  }

  /** Readys handled and syncs done so far (their ratio shows group commit at work). */
  public long[] readiesAndSyncs() {
    return new long[] {readies, syncs};
  }

  /** Why the loop stopped, if it stopped on an error (a failed disk write, a throwing state machine). */
  public Throwable failure() {
    return failure;
  }

  private void submit(CompletableFuture<?> f, Runnable action) {
    if (!running) {
      f.completeExceptionally(stopped());
      return;
    }
    inbox.add(() -> {
      if (!running) {
        f.completeExceptionally(stopped());
        return;
      }
      try {
        action.run();
      } catch (RuntimeException e) {
        f.completeExceptionally(e);
      }
    });
    if (!running) {
      drainInbox(); // the loop may have stopped after the check above: do not leave f hanging
    }
  }

  private void drainInbox() {
    Runnable task;
    while ((task = inbox.poll()) != null) {
      task.run(); // with running false, inputs only fail their futures
    }
  }

  private void track(long index, CompletableFuture<Long> f) {
    PendingProposal old = proposals.put(index, new PendingProposal(raw.term(), f));
    if (old != null) {
      old.future().completeExceptionally(new ProposalDroppedException(
          "entry " + index + " was overwritten by a later leader's", raw.lead()));
    }
  }

  private IllegalStateException stopped() {
    Throwable cause = failure;
    return cause == null
        ? new IllegalStateException("raft node " + id() + " is stopped")
        : new IllegalStateException("raft node " + id() + " stopped after an error: " + cause, cause);
  }

  /** The transport's way in: everything becomes a task for the loop. */
  private final class Inbound implements Transport.Handler {
    @Override
    public void receive(Message message) {
      inbox.add(() -> {
        if (running) {
          raw.step(message);
        }
      });
    }

    @Override
    public void unreachable(long peer) {
      inbox.add(() -> {
        if (running) {
          raw.reportUnreachable(peer);
        }
      });
    }

    @Override
    public void snapshotStatus(long peer, boolean delivered) {
      inbox.add(() -> {
        if (running) {
          raw.reportSnapshot(peer, delivered);
        }
      });
    }
  }

  // ---- the loop -------------------------------------------------------------------------------

  private void run() {
    long nextTick = System.nanoTime() + tickNanos;
    try {
      while (running) {
        long wake = announcePending && announceAt - nextTick < 0 ? announceAt : nextTick;
        long wait = raw.hasReady() ? 0 : Math.max(0, wake - System.nanoTime());
        Runnable task = wait > 0 ? inbox.poll(wait, TimeUnit.NANOSECONDS) : inbox.poll();
        for (int n = 0; task != null; n++) {
          runInput(task);
          task = n + 1 < MAX_INPUTS_PER_ROUND ? inbox.poll() : null;
        }
        flushForwardBatch();
        long now = System.nanoTime();
        if (now - nextTick >= 0) {
          raw.tick();
          ticks++;
          retryReads();
          // one tick per round: after a stall, skip the missed ticks rather than fire them in a burst
          nextTick = Math.max(nextTick + tickNanos, now + tickNanos / 2);
        }
        if (announcePending && now - announceAt >= 0) {
          raw.announceCommit();
        }
        if (raw.hasReady()) {
          handle(raw.ready());
        }
        if (!raw.commitUnannounced()) {
          announcePending = false;
        } else if (!announcePending) {
          announcePending = true;
          announceAt = System.nanoTime() + COMMIT_NOTICE_DELAY_NANOS;
        }
        publishView();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable t) {
      failure = t;
      LOG.error("raft node {}: loop stopped: {}", id(), t.toString(), t);
    } finally {
      running = false;
      failAll(stopped());
    }
  }

  private void flushForwardBatch() {
    if (forwardBatch.isEmpty()) {
      return;
    }
    try {
      raw.proposeOrForward(java.util.List.copyOf(forwardBatch));
      forwardFutures.forEach(f -> f.complete(null));
    } catch (RuntimeException e) {
      forwardFutures.forEach(f -> f.completeExceptionally(e));
    }
    forwardBatch.clear();
    forwardFutures.clear();
  }

  private void runInput(Runnable task) {
    try {
      task.run();
    } catch (IllegalArgumentException e) {
      // a malformed message from a peer must not stop the member
      LOG.warn("raft node {}: input refused: {}", id(), e.getMessage());
    }
  }

  private void handle(Ready rd) {
    readies++;
    // A leader's messages go out before its own write, so that the followers write in parallel with
    // it (Raft thesis §10.2.1; etcd does the same). Safe because this thread handles no input until
    // the write below is synced: a follower's ack, and so any commit that counts this member's
    // unsynced entries, is stepped only after they are on disk. Anyone else's messages (votes,
    // acks) speak for what this Ready persists and wait for the sync.
    boolean leader = raw.role() == Role.LEADER;
    if (leader) {
      transport.send(withoutStaleSnapshots(rd.messages()));
    }
    // Committed entries already on our disk (below the first entry this Ready writes) are handed to
    // the application now, so that its apply overlaps our write; the others wait for the sync.
    List<Entry> committed = rd.committedEntries();
    int early = rd.snapshot() != null ? 0 : stableCount(committed, rd.entries());
    if (early > 0) {
      applyCommitted(committed.subList(0, early));
    }
    if (rd.snapshot() != null) {
      store.applySnapshot(rd.snapshot());
    }
    store.append(rd.entries());
    if (rd.hardState() != null) {
      store.setHardState(rd.hardState());
    }
    if (rd.mustSync()) {
      store.sync();
      syncs++;
    }
    if (!leader) {
      transport.send(withoutStaleSnapshots(rd.messages()));
    }
    if (rd.snapshot() != null) {
      restore(rd.snapshot());
    }
    if (early < committed.size()) {
      applyCommitted(committed.subList(early, committed.size()));
    }
    for (ReadState rs : rd.readStates()) {
      CompletableFuture<Long> f = answeredRead(rs.context());
      if (f != null) {
        if (applied >= rs.index()) {
          f.complete(rs.index());
        } else {
          readsWaitingForApply.computeIfAbsent(rs.index(), k -> new ArrayDeque<>()).add(f);
        }
      }
    }
    raw.advance(rd);
    maybeSnapshot();
  }

  /** How many of {@code committed} (a prefix) are below the first of {@code toWrite}: already in the log store. */
  private static int stableCount(List<Entry> committed, List<Entry> toWrite) {
    if (toWrite.isEmpty()) {
      return committed.size();
    }
    long firstUnstable = toWrite.get(0).index();
    int n = 0;
    while (n < committed.size() && committed.get(n).index() < firstUnstable) {
      n++;
    }
    return n;
  }

  private void applyCommitted(List<Entry> entries) {
    app.applyAll(entries);
    for (Entry e : entries) {
      applied(e);
    }
  }

  /** The future of our read request with {@code context}, removed from the pending ones; null if none. */
  private CompletableFuture<Long> answeredRead(byte[] context) {
    if (context.length != READ_CONTEXT_BYTES) {
      return null;
    }
    ByteBuffer b = ByteBuffer.wrap(context);
    if (b.getLong() != id()) {
      return null;
    }
    PendingRead p = reads.remove(b.getLong());
    return p == null ? null : p.future();
  }

  /**
   * Sends again the read requests unanswered for half an election timeout (ReadIndex is
   * idempotent: the leader queues a context once, and the first answer wins), and gives up on
   * those unanswered for {@link #READ_GIVE_UP_ELECTIONS} election timeouts.
   */
  private void retryReads() {
    if (reads.isEmpty()) {
      return;
    }
    int election = options.raft().electionTick();
    long resendAfter = Math.max(1, election / 2);
    for (Iterator<Map.Entry<Long, PendingRead>> it = reads.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Long, PendingRead> e = it.next();
      PendingRead p = e.getValue();
      if (ticks - p.startTick() >= (long) READ_GIVE_UP_ELECTIONS * election) {
        it.remove();
        p.future().completeExceptionally(new java.util.concurrent.TimeoutException(
            "no answer to a read index request within " + READ_GIVE_UP_ELECTIONS + " election timeouts"));
      } else if (ticks - p.sentTick() >= resendAfter) {
        try {
          raw.readIndex(p.context());
        } catch (ProposalDroppedException dropped) {
          // no leader right now: the next round tries again
        }
        e.setValue(new PendingRead(p.context(), p.future(), p.startTick(), ticks));
      }
    }
  }

  private void restore(Snapshot snap) {
    app.restore(snap);
    applied = snap.index();
    appliedConf = snap.confState();
    // entries up to the snapshot were never applied here: their outcome is unknown to this member
    for (Iterator<Map.Entry<Long, PendingProposal>> it = proposals.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Long, PendingProposal> p = it.next();
      if (p.getKey() <= snap.index()) {
        p.getValue().future().completeExceptionally(new ProposalDroppedException(
            "entry " + p.getKey() + " was covered by a leader's snapshot; its outcome is unknown here", raw.lead()));
        it.remove();
      }
    }
    answerWaitingReads();
  }

  /** The node's side of an entry the application has just applied. */
  private void applied(Entry e) {
    if (e.isConfChange()) {
      ConfChange change = ConfChange.decode(e.data());
      appliedConf = appliedConf.apply(change);
      if (change.type() == ConfChange.Type.REMOVE && change.nodeId() != id()
          && !appliedConf.isMember(change.nodeId())) {
        transport.removePeer(change.nodeId());
      }
    }
    applied = e.index();
    PendingProposal p = proposals.remove(e.index());
    if (p != null) {
      if (p.term() == e.term()) {
        p.future().complete(e.index());
      } else {
        p.future().completeExceptionally(new ProposalDroppedException(
            "entry " + e.index() + " of term " + p.term() + " was lost to a leader change", raw.lead()));
      }
    }
    answerWaitingReads();
  }

  private void answerWaitingReads() {
    while (!readsWaitingForApply.isEmpty() && readsWaitingForApply.firstKey() <= applied) {
      Map.Entry<Long, ArrayDeque<CompletableFuture<Long>>> first = readsWaitingForApply.pollFirstEntry();
      first.getValue().forEach(f -> f.complete(first.getKey()));
    }
  }

  /** Peers whose snapshot is being encoded on the snapshot thread (loop-thread state). */
  private final java.util.Set<Long> snapshotsUnderWay = new java.util.HashSet<>();

  /**
   * For an application that {@link StateMachine#keepsOwnState keeps its own state}: the core's
   * snapshot messages carry the latest periodic snapshot, which holds no data. Each is replaced by
   * the application's state as of our latest applied entry (its index, term and membership), as
   * etcd's createMergedSnapshotMessage does: a snapshot of committed state at a later index than
   * the core chose, which the follower installs as any other (it answers with that index, past
   * the one the core waits for). Captured now, encoded and sent from the snapshot thread; a
   * message for a peer whose encoding is still under way is dropped (the core sends again when the
   * first is lost: no answer within an election timeout).
   */
  private List<Message> withoutStaleSnapshots(List<Message> messages) {
    if (!app.keepsOwnState() || messages.stream().noneMatch(m -> m instanceof Message.InstallSnapshot)) {
      return messages;
    }
    List<Message> rest = new java.util.ArrayList<>(messages.size());
    for (Message m : messages) {
      if (m instanceof Message.InstallSnapshot s) {
        sendFreshSnapshot(s);
      } else {
        rest.add(m);
      }
    }
    return rest;
  }

  private void sendFreshSnapshot(Message.InstallSnapshot m) {
    if (!snapshotsUnderWay.add(m.to())) {
      return;
    }
    long index = applied;
    long term = raw.log().term(index);
    ConfState conf = appliedConf;
    if (term <= 0 || index < m.snapshot().index()) { // not expected: applied never falls behind the snapshot
      snapshotsUnderWay.remove(m.to());
      LOG.error("raft node {}: no snapshot for {}: the applied index {} (term {}) is behind the snapshot at {}",
          hex(id()), hex(m.to()), index, term, m.snapshot().index());
      return;
    }
    java.util.function.Supplier<byte[]> encode = app.snapshotLater();
    snapshotter.execute(() -> {
      Message fresh = null;
      try {
        long t0 = System.nanoTime();
        byte[] data = encode.get();
        fresh = new Message.InstallSnapshot(m.from(), m.to(), m.term(), new Snapshot(index, term, conf, data));
        LOG.info("raft node {}: snapshot for {} at {} ({} bytes, encoded in {} ms)", hex(id()), hex(m.to()), index,
            data.length, (System.nanoTime() - t0) / 1_000_000);
      } catch (RuntimeException e) {
        LOG.error("raft node {}: encoding a snapshot for {} failed; it is sent again later: {}", hex(id()),
            hex(m.to()), e.toString(), e);
      }
      Message send = fresh;
      inbox.add(() -> {
        snapshotsUnderWay.remove(m.to());
        if (running && send != null && raw.role() == Role.LEADER && raw.term() == m.term()) {
          transport.send(List.of(send));
        }
      });
    });
  }

  private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

  /**
   * Takes a snapshot when one is due: the application captures its state here and encodes it on the
   * snapshot thread ({@link StateMachine#snapshotLater}), and the loop saves the result when it
   * comes back. Encoding a large state on the loop stopped the whole cluster for seconds: every
   * member reaches the same index at about the same time (under {@code etcdctl check perf
   * --load=l}, ~17 s at 100,000 entries, and clients timed out).
   */
  private void maybeSnapshot() {
    if (snapshotting || options.snapshotEvery() <= 0
        || applied - store.snapshot().index() < options.snapshotEvery()) {
      return;
    }
    long index = applied;
    ConfState conf = appliedConf;
    java.util.function.Supplier<byte[]> encode;
    if (app.keepsOwnState()) {
      Runnable persist = app.persistLater();
      encode = () -> {
        persist.run();
        return new byte[0]; // the store holds the state: a follower gets it from sendFreshSnapshot
      };
    } else {
      encode = app.snapshotLater();
    }
    snapshotting = true;
    snapshotter.execute(() -> {
      byte[] data;
      long t0 = System.nanoTime();
      long cpu0 = THREADS.getCurrentThreadCpuTime();
      try {
        data = encode.get();
      } catch (RuntimeException e) {
        LOG.error("raft node {}: encoding the snapshot at {} failed; trying again later: {}", hex(id()), index,
            e.toString(), e);
        inbox.add(() -> snapshotting = false);
        return;
      }
      long encodeMillis = (System.nanoTime() - t0) / 1_000_000;
      long cpuMillis = (THREADS.getCurrentThreadCpuTime() - cpu0) / 1_000_000;
      inbox.add(() -> {
        snapshotting = false;
        if (running) {
          saveSnapshot(index, conf, data, encodeMillis, cpuMillis);
        }
      });
    });
  }

  private void saveSnapshot(long index, ConfState conf, byte[] data, long encodeMillis, long cpuMillis) {
    if (index <= store.snapshot().index()) {
      return; // a leader's snapshot got here first
    }
    store.createSnapshot(index, conf, data);
    long compactTo = index - options.keepAfterSnapshot();
    if (compactTo >= store.firstIndex()) {
      store.compact(compactTo);
    }
    LOG.info("raft node {}: snapshot at {} ({} bytes, encoded in {} ms, {} ms of CPU), log compacted to {}",
        hex(id()), index, data.length, encodeMillis, cpuMillis, compactTo);
  }

  private void publishView() {
    View old = view;
    View now = new View(id(), raw.term(), raw.lead(), raw.role(), raw.log().committed(), applied);
    view = now;
    if (old != null && (old.lead() != now.lead() || old.role() != now.role())) {
      // one line per change of leadership as this member sees it
      if (now.role() == Role.LEADER && old.role() != Role.LEADER) {
        LOG.info("raft node {}: elected leader at term {}", hex(id()), now.term());
      } else if (old.role() == Role.LEADER && now.role() != Role.LEADER) {
        LOG.info("raft node {}: lost leadership at term {} (now {})", hex(id()), now.term(), now.role());
      } else if (now.lead() != 0 && now.lead() != old.lead()) {
        LOG.info("raft node {}: leader is {} at term {}", hex(id()), hex(now.lead()), now.term());
      } else if (now.lead() == 0 && old.lead() != 0) {
        LOG.info("raft node {}: lost leader {} at term {}", hex(id()), hex(old.lead()), now.term());
      }
      if (now.lead() != 0 && now.lead() != old.lead()) {
        leaderChanges++;
      }
    }
  }

  private volatile long leaderChanges;

  /** How many times this member has seen the leader change (etcd_server_leader_changes_seen_total). */
  public long leaderChanges() {
    return leaderChanges;
  }

  private static String hex(long id) {
    return Long.toHexString(id);
  }

  private void failAll(Exception e) {
    proposals.values().forEach(p -> p.future().completeExceptionally(e));
    proposals.clear();
    reads.values().forEach(p -> p.future().completeExceptionally(e));
    reads.clear();
    forwardFutures.forEach(f -> f.completeExceptionally(e));
    forwardFutures.clear();
    forwardBatch.clear();
    readsWaitingForApply.values().forEach(q -> q.forEach(f -> f.completeExceptionally(e)));
    readsWaitingForApply.clear();
    drainInbox();
  }

  /** Stops the loop (pending proposals and reads fail) and closes the transport; the store stays open. */
  @Override
  public void close() {
    running = false;
    inbox.add(() -> { });
    if (Thread.currentThread() != thread) {
      try {
        thread.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    // an encoding under way holds the application's capture (a database snapshot): let it finish
    // and release it before the application closes
    snapshotter.shutdown();
    try {
      if (!snapshotter.awaitTermination(60, TimeUnit.SECONDS)) {
        LOG.warn("raft node {}: a snapshot is still being encoded after 60 s", hex(id()));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    transport.close();
  }
}
