package dev.flotilla.scheduler.registry;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * The schedule: which machine each non-global unit is assigned to. Written only by the engine
 * leader, every write conditional on the leader's lease (a deposed leader's writes fail), so one
 * unit is never assigned twice. Each agent watches only the entries for its own machine.
 */
public interface ScheduleRegistry {

  Optional<Versioned<String>> assignment(String unit);

  /** unit → machine, by unit name. */
  Map<String, String> assignments();

  /** The assignments of {@code units} that exist, with their mod revisions (a store reads them in batches). */
  default Map<String, Versioned<String>> assignments(Collection<String> units) {
    Map<String, Versioned<String>> out = new TreeMap<>();
    for (String u : units) {
      assignment(u).ifPresent(v -> out.put(u, v));
    }
    return out;
  }

  /** Every assignment with its mod revision, for compare-and-set callers. */
  default Map<String, Versioned<String>> assignmentsWithRevisions() {
    return assignments(assignments().keySet());
  }

  /** Assigns {@code unit} to {@code machineId} if its entry is still at {@code expectedModRevision} (0: absent). */
  boolean assign(String unit, String machineId, long expectedModRevision);

  /** Removes the assignment if it is still at {@code expectedModRevision}. */
  boolean unassign(String unit, long expectedModRevision);

  /**
   * Makes many writes, each as {@link #assign} or {@link #unassign} would, in order; a store groups
   * them into few transactions, each all or nothing (a batch whose fence or any compare fails
   * applies none of its writes, and its writes are then tried one by one unless the fence failed).
   * Returns one outcome per write, in order.
   */
  default List<ScheduleWrite.Outcome> write(List<ScheduleWrite> writes) {
    List<ScheduleWrite.Outcome> out = new ArrayList<>(writes.size());
    for (ScheduleWrite w : writes) {
      boolean done = w.machine() == null
          ? unassign(w.unit(), w.expectedModRevision())
          : assign(w.unit(), w.machine(), w.expectedModRevision());
      out.add(new ScheduleWrite.Outcome(w.unit(), done, 0));
    }
    return out;
  }

  /**
   * {@link #write}, then {@link #setUnscheduledReasons} (unless none), answered later: a store
   * sends the txns from other threads, so that the caller can get on with its own work meanwhile
   * (the engine places the next units), and writes a unit's reason in the txn of its write where
   * it can, so that no reader sees a unit unassigned without its reason, or placed with its old
   * one. One at a time: the caller takes the answer before it writes again. The default writes at
   * once.
   */
  default CompletableFuture<List<ScheduleWrite.Outcome>> writeLater(List<ScheduleWrite> writes,
      Map<String, String> reasons) {
    try {
      List<ScheduleWrite.Outcome> out = write(writes);
      if (!reasons.isEmpty()) {
        setUnscheduledReasons(reasons);
      }
      return CompletableFuture.completedFuture(out);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** {@link #setUnscheduledReason} for each entry (a store writes them in few transactions). */
  default void setUnscheduledReasons(Map<String, String> reasons) {
    reasons.forEach(this::setUnscheduledReason);
  }

  /** Records why {@code unit} is not scheduled (shown by the CLI), or clears it with an empty reason. */
  void setUnscheduledReason(String unit, String reason);

  /**
   * Why each unscheduled unit is not scheduled, as last recorded by {@link #setUnscheduledReason}
   * (the API shows it, the engine reads it back after a failover instead of rewriting them all).
   * The default knows none: an implementation that stores reasons must override it.
   */
  default Map<String, String> unscheduledReasons() {
    return Map.of();
  }
}
