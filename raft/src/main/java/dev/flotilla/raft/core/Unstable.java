package dev.flotilla.raft.core;

import java.util.ArrayList;
import java.util.List;

/**
 * The tail of the log not yet persisted: entries from {@code offset} on and perhaps a snapshot
 * received from the leader. Entries leave it when the application reports them persisted (see
 * {@link #stableTo}).
 */
final class Unstable {

  Snapshot snapshot;
  final ArrayList<Entry> entries = new ArrayList<>();
  long offset;

  Unstable(long offset) {
    this.offset = offset;
  }

  /** First index known here (only from a pending snapshot), or -1. */
  long maybeFirstIndex() {
    return snapshot != null ? snapshot.index() + 1 : -1;
  }

  long maybeLastIndex() {
    if (!entries.isEmpty()) {
      return offset + entries.size() - 1;
    }
    return snapshot != null ? snapshot.index() : -1;
  }

  /** The term at {@code i} if this part of the log knows it, else -1. */
  long maybeTerm(long i) {
    if (i < offset) {
      return snapshot != null && snapshot.index() == i ? snapshot.term() : -1;
    }
    long last = maybeLastIndex();
    if (last < 0 || i > last) {
      return -1;
    }
    return entries.get((int) (i - offset)).term();
  }

  /**
   * Entries up to {@code i} reached the disk. Ignored when the entry at {@code i} has since been
   * replaced by one of another term (a newer leader overwrote it while the write was in flight):
   * the replacement is still unstable and goes out with the next Ready.
   */
  void stableTo(long i, long t) {
    long gt = maybeTerm(i);
    if (gt < 0 || gt != t || i < offset) {
      return;
    }
    entries.subList(0, (int) (i + 1 - offset)).clear();
    offset = i + 1;
  }

  void stableSnapTo(long i) {
    if (snapshot != null && snapshot.index() == i) {
      snapshot = null;
    }
  }

  void restore(Snapshot s) {
    offset = s.index() + 1;
    entries.clear();
    snapshot = s;
  }

  void truncateAndAppend(List<Entry> ents) {
    long after = ents.get(0).index();
    if (after == offset + entries.size()) {
      entries.addAll(ents);
    } else if (after <= offset) {
      // replace everything unstable; the disk's suffix from `after` is replaced at the next persist
      offset = after;
      entries.clear();
      entries.addAll(ents);
    } else {
      entries.subList((int) (after - offset), entries.size()).clear();
      entries.addAll(ents);
    }
  }

  List<Entry> slice(long lo, long hi) {
    return entries.subList((int) (lo - offset), (int) (hi - offset));
  }
}
