package dev.flotilla.kv.server;

import dev.flotilla.raft.wal.HardState;
import dev.flotilla.raft.wal.Wal;
import dev.flotilla.raft.wal.WalEntry;
import dev.flotilla.raft.wal.WalOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The log of a single-node store: commands are appended to the WAL and fsynced in groups
 * (every command waiting while one fsync runs shares the next one), then applied in order on
 * the apply thread. A client hears back only after its command is durable and applied.
 *
 * <p>Threads: {@code wal-writer} owns the WAL; {@code apply} owns the state machine's writes.
 */
public final class LocalLog implements CommandLog {
  private static final Logger log = LoggerFactory.getLogger(LocalLog.class);
  /** A single node is its own leader, in the first term. */
  private static final long TERM = 1;
  private static final int MAX_BATCH = 8192;

  private record Proposal(byte[] data, CompletableFuture<ApplyOutcome> future) {}

  private record Batch(long firstIndex, List<Proposal> proposals) {}

  private record ReadWaiter(long index, CompletableFuture<Void> future) {}

  /** Queued by close(): FileChannel I/O must not be interrupted (that closes the channel). */
  private static final Proposal STOP = new Proposal(new byte[0], new CompletableFuture<>());
  private static final Batch STOP_BATCH = new Batch(0, List.of());

  private final Wal wal;
  private final StoreStateMachine machine;
  private final long checkpointEvery;
  private final BlockingQueue<Proposal> incoming = new LinkedBlockingQueue<>();
  private final BlockingQueue<Batch> toApply = new LinkedBlockingQueue<>();
  private final ConcurrentLinkedQueue<ReadWaiter> readWaiters = new ConcurrentLinkedQueue<>();
  private final Thread writer;
  private final Thread applier;
  private volatile boolean running = true;
  private volatile Throwable failure;
  private volatile long committedIndex;
  private long lastIndex;
  private long lastCheckpoint;

  private final StoreMetrics metrics;

  private LocalLog(Wal wal, StoreStateMachine machine, long checkpointEvery, StoreMetrics metrics) {
    this.wal = wal;
    this.metrics = metrics;
    this.machine = machine;
    this.checkpointEvery = checkpointEvery;
    this.lastIndex = wal.lastIndex();
    this.committedIndex = lastIndex;
    this.lastCheckpoint = machine.appliedIndex();
    this.writer = new Thread(this::writeLoop, "wal-writer");
    this.applier = new Thread(this::applyLoop, "apply");
  }

  /**
   * Opens the WAL in {@code dir}, replays into {@code machine} every entry after the store's
   * applied index, and starts the writer and apply threads.
   */
  public static LocalLog open(Path dir, StoreStateMachine machine, long checkpointEvery,
      StoreMetrics metrics) throws IOException {
    Wal wal = Wal.open(dir, WalOptions.defaults());
    try {
      long applied = machine.appliedIndex();
      if (wal.lastIndex() < applied) {
        throw new IOException("the WAL in " + dir + " ends at index " + wal.lastIndex()
            + " but the store has applied up to " + applied + ": the log was lost or replaced");
      }
      if (wal.lastIndex() > applied && wal.firstIndex() > applied + 1) {
        throw new IOException("the WAL in " + dir + " starts at index " + wal.firstIndex()
            + " but the store needs entries from " + (applied + 1));
      }
      if (wal.hardState() == null || wal.hardState().term() == 0) {
        wal.saveHardState(new HardState(TERM, 0, wal.lastIndex()));
        wal.sync();
      }
      long[] replayed = {0};
      wal.replay(applied + 1, e -> {
        machine.apply(e.index(), e.data());
        replayed[0]++;
      });
      if (replayed[0] > 0) {
        log.info("replayed {} WAL entries, store now at index {}", replayed[0], machine.appliedIndex());
      }
    } catch (IOException | RuntimeException e) {
      wal.close();
      throw e;
    }
    LocalLog l = new LocalLog(wal, machine, checkpointEvery, metrics);
    metrics.bind(l, machine::appliedIndex, () -> machine.store().revision(), l.incoming::size);
    metrics.bindRaft(() -> 1);
    l.writer.start();
    l.applier.start();
    return l;
  }

  @Override
  public CompletableFuture<ApplyOutcome> propose(byte[] command) {
    var f = new CompletableFuture<ApplyOutcome>();
    Throwable t = failure;
    if (t != null || !running) {
      metrics.proposalsFailed.inc();
      f.completeExceptionally(new IllegalStateException("the store's log is stopped", t));
      return f;
    }
    incoming.add(new Proposal(command, f));
    return f;
  }

  @Override
  public CompletableFuture<Void> readBarrier() {
    long target = committedIndex;
    if (machine.appliedIndex() >= target) {
      return CompletableFuture.completedFuture(null);
    }
    var w = new ReadWaiter(target, new CompletableFuture<>());
    readWaiters.add(w);
    if (machine.appliedIndex() >= target) {
      w.future.complete(null);
    }
    return w.future;
  }

  @Override
  public long committedIndex() {
    return committedIndex;
  }

  @Override
  public long term() {
    return TERM;
  }

  private void writeLoop() {
    List<Proposal> batch = new ArrayList<>();
    List<WalEntry> entries = new ArrayList<>();
    while (running) {
      try {
        Proposal first = incoming.take();
        if (first == STOP) {
          break;
        }
        batch.add(first);
        incoming.drainTo(batch, MAX_BATCH - 1);
        boolean stop = batch.remove(STOP);
        long firstIndex = lastIndex + 1;
        for (Proposal p : batch) {
          entries.add(new WalEntry(++lastIndex, TERM, p.data));
        }
        wal.append(entries);
        long t0 = System.nanoTime();
        wal.sync();
        metrics.walFsync.observe(StoreMetrics.seconds(System.nanoTime() - t0));
        metrics.walBatch.observe(entries.size());
        committedIndex = lastIndex;
        toApply.add(new Batch(firstIndex, List.copyOf(batch)));
        batch.clear();
        entries.clear();
        maybeCheckpoint();
        if (stop) {
          break;
        }
      } catch (InterruptedException e) {
        break;
      } catch (Throwable e) {
        fail("the WAL write failed", e, batch);
        return;
      }
    }
  }

  /** Flushes the store and drops WAL segments it no longer needs for replay. */
  private void maybeCheckpoint() throws IOException {
    long applied = machine.appliedIndex();
    if (applied - lastCheckpoint < checkpointEvery) {
      return;
    }
    machine.store().flush();
    long durable = machine.store().durableAppliedIndex();
    wal.releaseBefore(durable + 1);
    lastCheckpoint = durable;
  }

  private void applyLoop() {
    while (true) {
      Batch b;
      try {
        b = toApply.take();
      } catch (InterruptedException e) {
        break;
      }
      if (b == STOP_BATCH) {
        break;
      }
      List<StoreStateMachine.Entry> entries = new ArrayList<>(b.proposals.size());
      long index = b.firstIndex;
      for (Proposal p : b.proposals) {
        entries.add(new StoreStateMachine.Entry(index++, p.data));
      }
      List<ApplyOutcome> outcomes;
      try {
        long t0 = System.nanoTime();
        outcomes = machine.applyBatch(entries);
        long per = (System.nanoTime() - t0) / entries.size();
        for (int i = 0; i < entries.size(); i++) {
          metrics.apply.observe(StoreMetrics.seconds(per));
        }
      } catch (Throwable e) {
        fail("applying log entries " + b.firstIndex + ".." + (index - 1) + " failed", e, b.proposals);
        return;
      }
      releaseReaders();
      for (int i = 0; i < outcomes.size(); i++) {
        b.proposals.get(i).future.complete(outcomes.get(i));
      }
    }
  }

  private void releaseReaders() {
    long applied = machine.appliedIndex();
    for (Iterator<ReadWaiter> it = readWaiters.iterator(); it.hasNext(); ) {
      ReadWaiter w = it.next();
      if (w.index <= applied) {
        w.future.complete(null);
        it.remove();
      }
    }
  }

  private void fail(String what, Throwable e, List<Proposal> inFlight) {
    log.error("{}; the store stops taking writes: {}", what, e.toString(), e);
    failure = e;
    running = false;
    metrics.proposalsFailed.inc(inFlight.size() + incoming.size());
    for (Proposal p : inFlight) {
      p.future.completeExceptionally(e);
    }
    Proposal p;
    while ((p = incoming.poll()) != null) {
      p.future.completeExceptionally(e);
    }
  }

  @Override
  public void close() {
    running = false;
    incoming.add(STOP);
    try {
      writer.join(10_000);
      toApply.add(STOP_BATCH);
      applier.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    var stopped = new IllegalStateException("the store is closing");
    Proposal p;
    while ((p = incoming.poll()) != null) {
      p.future.completeExceptionally(stopped);
    }
    for (ReadWaiter w : readWaiters) {
      w.future.completeExceptionally(stopped);
    }
    try {
      wal.close();
    } catch (IOException e) {
      log.warn("closing the WAL failed: {}", e.toString());
    }
  }
}
