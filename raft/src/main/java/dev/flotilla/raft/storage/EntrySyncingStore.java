package dev.flotilla.raft.storage;

import dev.flotilla.raft.core.ConfState;
import dev.flotilla.raft.core.Entry;
import dev.flotilla.raft.core.HardState;
import dev.flotilla.raft.core.LogStore;
import dev.flotilla.raft.core.Snapshot;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link LogStore} that makes every entry durable on its own (append one, sync) before the next:
 * group commit switched off. Only for measuring what group commit buys (bench's
 * RaftCommitBenchmark, raft's RaftThroughput); never use it to run a member.
 */
public final class EntrySyncingStore implements LogStore {

  /** Syncs done by all instances in this JVM. */
  public static final AtomicLong SYNCS = new AtomicLong();

  private final LogStore d;

  public EntrySyncingStore(LogStore delegate) {
    this.d = delegate;
  }

  @Override
  public void append(List<Entry> entries) {
    for (Entry e : entries) {
      d.append(List.of(e));
      d.sync();
      SYNCS.incrementAndGet();
    }
  }

  @Override
  public HardState hardState() {
    return d.hardState();
  }

  @Override
  public Snapshot snapshot() {
    return d.snapshot();
  }

  @Override
  public long firstIndex() {
    return d.firstIndex();
  }

  @Override
  public long lastIndex() {
    return d.lastIndex();
  }

  @Override
  public long term(long index) {
    return d.term(index);
  }

  @Override
  public List<Entry> entries(long lo, long hi, long maxBytes) {
    return d.entries(lo, hi, maxBytes);
  }

  @Override
  public void setHardState(HardState state) {
    d.setHardState(state);
  }

  @Override
  public void applySnapshot(Snapshot snapshot) {
    d.applySnapshot(snapshot);
  }

  @Override
  public void createSnapshot(long index, ConfState confState, byte[] data) {
    d.createSnapshot(index, confState, data);
  }

  @Override
  public void compact(long index) {
    d.compact(index);
  }

  @Override
  public void sync() {
    d.sync();
  }
}
