package dev.flotilla.raft.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A member's log: the persisted part in a {@link LogStore}, the rest in {@link Unstable}, plus the
 * commit and applied indexes. Indexes below {@code firstIndex()} are compacted into a snapshot.
 */
final class RaftLog implements LogView {

  final LogStore storage;
  final Unstable unstable;
  /** Told of every batch appended (after any suffix it replaces is dropped). */
  java.util.function.Consumer<List<Entry>> appendListener = ents -> { };
  long committed;
  long applied;

  RaftLog(LogStore storage) {
    this.storage = storage;
    this.unstable = new Unstable(storage.lastIndex() + 1);
    this.committed = storage.firstIndex() - 1;
    this.applied = storage.firstIndex() - 1;
  }

  @Override
  public long firstIndex() {
    long i = unstable.maybeFirstIndex();
    return i >= 0 ? i : storage.firstIndex();
  }

  @Override
  public long lastIndex() {
    long i = unstable.maybeLastIndex();
    return i >= 0 ? i : storage.lastIndex();
  }

  @Override
  public long committed() {
    return committed;
  }

  @Override
  public long applied() {
    return applied;
  }

  long lastTerm() {
    long t = term(lastIndex());
    if (t < 0) {
      throw new IllegalStateException("term of the last index " + lastIndex() + " is unknown");
    }
    return t;
  }

  @Override
  public long term(long i) {
    long t = unstable.maybeTerm(i);
    if (t >= 0) {
      return t;
    }
    if (i < firstIndex() - 1 || i > lastIndex()) {
      return -1;
    }
    try {
      return storage.term(i);
    } catch (LogCompactedException e) {
      return -1;
    }
  }

  @Override
  public Entry entry(long index) {
    if (index < firstIndex() || index > lastIndex()) {
      return null;
    }
    return slice(index, index + 1, Long.MAX_VALUE).get(0);
  }

  /** The term at {@code i}, with 0 for an index outside the log. */
  long zeroTermOnOutOfBounds(long i) {
    long t = term(i);
    return t < 0 ? 0 : t;
  }

  boolean matchTerm(long i, long t) {
    long ours = term(i);
    return ours >= 0 && ours == t;
  }

  /** Whether a log ending at ({@code lasti}, {@code lastTerm}) is at least as up to date as ours (§5.4.1). */
  boolean isUpToDate(long lasti, long lastTerm) {
    long ourTerm = lastTerm();
    return lastTerm > ourTerm || (lastTerm == ourTerm && lasti >= lastIndex());
  }

  /**
   * Appends what the leader sent after (prevIndex, prevTerm) if our log matches there, replacing
   * a conflicting suffix, and moves the commit index up to what is known to match.
   *
   * @return the last index the leader's message covers, or -1 when our log does not match
   */
  long maybeAppend(long prevIndex, long prevTerm, long leaderCommit, List<Entry> ents) {
    if (!matchTerm(prevIndex, prevTerm)) {
      return -1;
    }
    long lastNew = prevIndex + ents.size();
    long ci = findConflict(ents);
    if (ci != 0) {
      if (ci <= committed) {
        throw new IllegalStateException("entry " + ci + " conflicts with a committed entry (committed " + committed + ")");
      }
      append(ents.subList((int) (ci - (prevIndex + 1)), ents.size()));
    }
    commitTo(Math.min(leaderCommit, lastNew));
    return lastNew;
  }

  /** The index of the first entry that is new or conflicts with ours, 0 when we hold them all. */
  long findConflict(List<Entry> ents) {
    for (Entry e : ents) {
      if (!matchTerm(e.index(), e.term())) {
        return e.index();
      }
    }
    return 0;
  }

  /**
   * The largest index {@code <= index} whose term is {@code <= term}, and that term (0 when
   * unknown): the leader can skip every entry between, since none of them can match (§5.3
   * optimisation, as in etcd's findConflictByTerm).
   */
  long[] findConflictByTerm(long index, long term) {
    for (; index > 0; index--) {
      long ours = term(index);
      if (ours < 0) {
        return new long[] {index, 0};
      }
      if (ours <= term) {
        return new long[] {index, ours};
      }
    }
    return new long[] {0, 0};
  }

  long append(List<Entry> ents) {
    if (ents.isEmpty()) {
      return lastIndex();
    }
    long after = ents.get(0).index() - 1;
    if (after < committed) {
      throw new IllegalStateException("append after " + after + " is below the commit index " + committed);
    }
    unstable.truncateAndAppend(ents);
    appendListener.accept(ents);
    return lastIndex();
  }

  List<Entry> unstableEntries() {
    return new ArrayList<>(unstable.entries);
  }

  boolean hasNextCommittedEnts() {
    return unstable.snapshot == null && committed > applied;
  }

  /** Committed entries not yet handed to the application (none while a snapshot waits to be applied). */
  List<Entry> nextCommittedEnts(long maxBytes) {
    if (!hasNextCommittedEnts()) {
      return Collections.emptyList();
    }
    return slice(applied + 1, committed + 1, maxBytes);
  }

  Snapshot snapshot() {
    return unstable.snapshot != null ? unstable.snapshot : storage.snapshot();
  }

  void commitTo(long toCommit) {
    if (committed < toCommit) {
      if (lastIndex() < toCommit) {
        throw new IllegalStateException("commit index " + toCommit + " is past the last index " + lastIndex());
      }
      committed = toCommit;
    }
  }

  void appliedTo(long i) {
    if (i == 0) {
      return;
    }
    if (committed < i || i < applied) {
      throw new IllegalStateException("applied index " + i + " is outside [" + applied + ", " + committed + "]");
    }
    applied = i;
  }

  void stableTo(long i, long t) {
    unstable.stableTo(i, t);
  }

  void stableSnapTo(long i) {
    unstable.stableSnapTo(i);
  }

  /** Commits up to {@code maxIndex} if its entry is of {@code term}: only current-term entries are counted (§5.4.2). */
  boolean maybeCommit(long maxIndex, long term) {
    if (maxIndex > committed && zeroTermOnOutOfBounds(maxIndex) == term) {
      commitTo(maxIndex);
      return true;
    }
    return false;
  }

  void restore(Snapshot s) {
    committed = s.index();
    unstable.restore(s);
  }

  /** Entries from {@code lo} to the end, at most {@code maxBytes} (at least one). */
  List<Entry> entriesFrom(long lo, long maxBytes) {
    if (lo > lastIndex()) {
      return Collections.emptyList();
    }
    return slice(lo, lastIndex() + 1, maxBytes);
  }

  /** Entries [lo, hi) within {@code maxBytes} (at least one). @throws LogCompactedException below the first index */
  List<Entry> slice(long lo, long hi, long maxBytes) {
    long first = firstIndex();
    if (lo < first) {
      throw new LogCompactedException(lo, first - 1);
    }
    if (hi > lastIndex() + 1 || lo > hi) {
      throw new IllegalArgumentException("slice [" + lo + ", " + hi + ") is outside [" + first + ", " + lastIndex() + "]");
    }
    if (lo == hi) {
      return Collections.emptyList();
    }
    List<Entry> out = new ArrayList<>();
    long size = 0;
    if (lo < unstable.offset) {
      long storedHi = Math.min(hi, unstable.offset);
      List<Entry> stored = storage.entries(lo, storedHi, maxBytes);
      out.addAll(stored);
      if (stored.size() < storedHi - lo) {
        return out; // cut by size
      }
      for (Entry e : stored) {
        size += e.sizeBytes();
      }
    }
    if (hi > unstable.offset) {
      for (Entry e : unstable.slice(Math.max(lo, unstable.offset), hi)) {
        size += e.sizeBytes();
        if (!out.isEmpty() && size > maxBytes) {
          break;
        }
        out.add(e);
      }
    }
    return out;
  }
}
