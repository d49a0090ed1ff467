package dev.flotilla.raft.wal;

import java.util.ArrayList;
import java.util.List;

/**
 * Where the live log lies on disk, as a list of runs: stretches of one segment in which entry
 * records carry consecutive indexes. Memory is one small record per segment and per overwrite, not
 * per entry, so the log may be far larger than the heap.
 *
 * <p>The WAL is append-only and resolves Raft's suffix overwrite the way etcd's does, "later record
 * wins": an entry whose index is at or below the last one starts a new run and cuts every older run
 * back to below that index. Files are never rewritten in place, so a crash in the middle of an
 * overwrite cannot take hard-state or snapshot records that sit among the overwritten entries with
 * it. The same rules run at write time and during recovery, so both see the same log.
 */
final class LogLayout {

  /**
   * Entries {@code firstIndex..lastIndex} of the live log, read by scanning segment
   * {@code sequence} from byte {@code offset}: the entry records met there carry exactly these
   * indexes in order (records of other types may sit between them).
   */
  record Run(long sequence, long offset, long firstIndex, long lastIndex) {}

  private final List<Run> runs = new ArrayList<>();

  long firstIndex() {
    return runs.isEmpty() ? 0 : runs.get(0).firstIndex();
  }

  long lastIndex() {
    return runs.isEmpty() ? 0 : runs.get(runs.size() - 1).lastIndex();
  }

  /**
   * Why an entry with this index may not be written next, or null if it may. An empty log takes any
   * index after the snapshot; a non-empty one takes the next index, an overwrite of one it holds, or
   * a restart right after a newer snapshot (a follower that installed a snapshot past its log).
   */
  String admissionProblem(long index, SnapshotMarker snapshot) {
    if (snapshot != null && index <= snapshot.index()) {
      return "entry index " + index + " is covered by the snapshot at index " + snapshot.index();
    }
    long last = lastIndex();
    if (!runs.isEmpty() && index > last + 1 && (snapshot == null || index != snapshot.index() + 1)) {
      return "entry index " + index + " leaves a gap after last index " + last;
    }
    return null;
  }

  /** Records that the entry with {@code index} was written at {@code offset} of segment {@code sequence}. */
  void add(long sequence, long offset, long index) {
    if (!runs.isEmpty()) {
      Run last = runs.get(runs.size() - 1);
      if (index == last.lastIndex() + 1 && last.sequence() == sequence) {
        runs.set(runs.size() - 1, new Run(sequence, last.offset(), last.firstIndex(), index));
        return;
      }
      if (index <= last.lastIndex()) {
        truncateFrom(index);
      } else if (index > last.lastIndex() + 1) {
        runs.clear();
      }
    }
    runs.add(new Run(sequence, offset, index, index));
  }

  private void truncateFrom(long index) {
    while (!runs.isEmpty() && runs.get(runs.size() - 1).firstIndex() >= index) {
      runs.remove(runs.size() - 1);
    }
    if (!runs.isEmpty()) {
      Run last = runs.get(runs.size() - 1);
      if (last.lastIndex() >= index) {
        runs.set(runs.size() - 1, new Run(last.sequence(), last.offset(), last.firstIndex(), index - 1));
      }
    }
  }

  /** Highest live index in the segment, or 0 when none of its entries is live. */
  long lastIndexIn(long sequence) {
    long max = 0;
    for (Run run : runs) {
      if (run.sequence() == sequence) {
        max = Math.max(max, run.lastIndex());
      }
    }
    return max;
  }

  /** Kills every entry: a snapshot replaced the whole log. */
  void clear() {
    runs.clear();
  }

  /** Forgets the runs of a deleted segment. */
  void dropSegment(long sequence) {
    runs.removeIf(run -> run.sequence() == sequence);
  }

  /** A copy of the runs holding entries {@code >= fromIndex}, in log order. */
  List<Run> runsFrom(long fromIndex) {
    List<Run> out = new ArrayList<>();
    for (Run run : runs) {
      if (run.lastIndex() >= fromIndex) {
        out.add(run);
      }
    }
    return out;
  }
}
