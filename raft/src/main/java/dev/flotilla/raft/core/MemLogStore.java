package dev.flotilla.raft.core;

import java.util.ArrayList;
import java.util.List;

/**
 * An in-memory {@link LogStore}. In the simulation one instance is a member's disk: it survives a
 * simulated crash, and only what a Ready told the application to persist is ever written to it.
 */
public final class MemLogStore implements LogStore {

  /** entries.get(0) is a dummy holding the snapshot's index and term; real entries follow. */
  private final ArrayList<Entry> entries = new ArrayList<>();
  private HardState hardState = HardState.EMPTY;
  private Snapshot snapshot = Snapshot.EMPTY;

  public MemLogStore() {
    entries.add(Entry.normal(0, 0, null));
  }

  /**
   * A store whose membership is given out of band (an index-0 snapshot carrying {@code conf} and
   * no data), for tests that lay out logs by hand.
   */
  public static MemLogStore withMembership(ConfState conf) {
    MemLogStore store = new MemLogStore();
    store.snapshot = new Snapshot(0, 0, conf, null);
    return store;
  }

  /**
   * A store for a founding member of a new cluster: one ADD_VOTER entry per founder at indexes
   * 1..n, term 1, already committed, so every founder (and every member added later) learns the
   * founding membership by applying the log, the way later changes are learned.
   */
  public static MemLogStore bootstrap(List<Long> founders) {
    MemLogStore store = new MemLogStore();
    List<Entry> initial = new ArrayList<>();
    long index = 1;
    for (long id : founders) {
      initial.add(new Entry(index++, 1, Entry.Type.CONF_CHANGE, ConfChange.addVoter(id).encode()));
    }
    store.append(initial);
    store.setHardState(new HardState(1, 0, founders.size()));
    return store;
  }

  @Override
  public HardState hardState() {
    return hardState;
  }

  @Override
  public Snapshot snapshot() {
    return snapshot;
  }

  private long offset() {
    return entries.get(0).index();
  }

  @Override
  public long firstIndex() {
    return offset() + 1;
  }

  @Override
  public long lastIndex() {
    return offset() + entries.size() - 1;
  }

  @Override
  public long term(long index) {
    long offset = offset();
    if (index < offset) {
      throw new LogCompactedException(index, offset);
    }
    if (index > lastIndex()) {
      throw new IllegalArgumentException("log index " + index + " is past the last index " + lastIndex());
    }
    return entries.get((int) (index - offset)).term();
  }

  @Override
  public List<Entry> entries(long lo, long hi, long maxBytes) {
    long offset = offset();
    if (lo <= offset) {
      throw new LogCompactedException(lo, offset);
    }
    if (hi > lastIndex() + 1) {
      throw new IllegalArgumentException("entries [" + lo + ", " + hi + ") run past the last index " + lastIndex());
    }
    List<Entry> out = new ArrayList<>();
    long size = 0;
    for (long i = lo; i < hi; i++) {
      Entry e = entries.get((int) (i - offset));
      size += e.sizeBytes();
      if (!out.isEmpty() && size > maxBytes) {
        break;
      }
      out.add(e);
    }
    return out;
  }

  @Override
  public void append(List<Entry> batch) {
    if (batch.isEmpty()) {
      return;
    }
    long first = batch.get(0).index();
    long offset = offset();
    if (first + batch.size() - 1 <= offset) {
      return; // wholly behind the snapshot
    }
    if (first > lastIndex() + 1) {
      throw new IllegalArgumentException("append at " + first + " leaves a gap after the last index " + lastIndex());
    }
    int skip = first <= offset ? (int) (offset + 1 - first) : 0;
    long start = first + skip;
    // drop the stored suffix the batch replaces
    while (lastIndex() >= start) {
      entries.remove(entries.size() - 1);
    }
    entries.addAll(batch.subList(skip, batch.size()));
  }

  @Override
  public void setHardState(HardState state) {
    this.hardState = state;
  }

  @Override
  public void applySnapshot(Snapshot snap) {
    if (snap.index() <= snapshot.index()) {
      throw new IllegalArgumentException("snapshot " + snap.index() + " is not newer than " + snapshot.index());
    }
    snapshot = snap;
    entries.clear();
    entries.add(Entry.normal(snap.index(), snap.term(), null));
  }

  @Override
  public void createSnapshot(long index, ConfState confState, byte[] data) {
    if (index <= snapshot.index()) {
      return;
    }
    if (index > lastIndex()) {
      throw new IllegalArgumentException("snapshot index " + index + " is past the last index " + lastIndex());
    }
    snapshot = new Snapshot(index, term(index), confState, data);
  }

  @Override
  public void compact(long index) {
    long offset = offset();
    if (index <= offset) {
      return;
    }
    if (index > lastIndex()) {
      throw new IllegalArgumentException("compact index " + index + " is past the last index " + lastIndex());
    }
    if (index > snapshot.index()) {
      throw new IllegalArgumentException("compact index " + index + " is past the snapshot index " + snapshot.index());
    }
    long term = term(index);
    List<Entry> keep = new ArrayList<>(entries.subList((int) (index - offset) + 1, entries.size()));
    entries.clear();
    entries.add(Entry.normal(index, term, null));
    entries.addAll(keep);
  }
}
