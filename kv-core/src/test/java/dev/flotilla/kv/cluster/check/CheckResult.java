package dev.flotilla.kv.cluster.check;

import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The verdict on a whole history and on each key. The history is linearizable only if every key
 * is; one violation makes it not linearizable; otherwise a key whose search ran out of budget or
 * time makes it unknown.
 *
 * @param keys one result per key, in key order
 */
public record CheckResult(Verdict verdict, String model, List<KeyResult> keys, Duration elapsed) {

  public enum Verdict { LINEARIZABLE, NOT_LINEARIZABLE, UNKNOWN }

  /**
   * @param ops the ops checked (after dropping reads of unknown outcome and unobservable unknown ops)
   * @param dropped how many were dropped
   * @param steps search steps taken
   * @param violation why, when NOT_LINEARIZABLE; else null
   * @param reason why, when UNKNOWN; else null
   */
  public record KeyResult(String key, Verdict verdict, int ops, int dropped, long steps,
      Violation violation, String reason) {}

  /**
   * The deepest point the search reached on a key: a linearization of {@code prefix} exists, and
   * from there {@code unplaceable} must take effect before it returned, but no choice of what
   * happens next allows that.
   *
   * @param stateAfterPrefix the key's state after {@code prefix}, as the model prints it
   * @param unplaceableAlone true if {@code unplaceable} itself is impossible in that state (a read
   *     of another value, a CAS from another value), false if it fits there but every way on from
   *     it dead-ends later
   * @param pending the other ops that were called but not linearized at that point
   */
  public record Violation(String key, List<Op> prefix, String stateAfterPrefix, Op unplaceable,
      boolean unplaceableAlone, List<Op> pending) {

    /** Prefix ops shown; earlier ones are counted, not listed. */
    static final int SHOWN = 12;

    public String explain() {
      long origin = prefix.isEmpty() ? unplaceable.call() : prefix.get(0).call();
      for (Op op : pending) {
        origin = Math.min(origin, op.call());
      }
      origin = Math.min(origin, unplaceable.call());
      var b = new StringBuilder();
      b.append("key ").append(key).append(" is not linearizable (times in ns from ").append(origin)
          .append(")\n");
      b.append("  longest linearizable prefix: ").append(prefix.size()).append(" ops");
      if (prefix.size() > SHOWN) {
        b.append(", the last ").append(SHOWN).append(" shown");
      }
      b.append('\n');
      for (Op op : prefix.subList(Math.max(0, prefix.size() - SHOWN), prefix.size())) {
        b.append("    ").append(op.describe(origin)).append('\n');
      }
      b.append("  state after it: ").append(stateAfterPrefix).append('\n');
      b.append("  cannot place: ").append(unplaceable.describe(origin)).append('\n');
      b.append(unplaceableAlone
          ? "    it is impossible in state " + stateAfterPrefix
              + ", and no other pending op can go first to make it possible\n"
          : "    it fits in state " + stateAfterPrefix
              + ", but every order of what follows dead-ends\n");
      if (!pending.isEmpty()) {
        b.append("  also pending then (called, not linearized):\n");
        for (Op op : pending) {
          b.append("    ").append(op.describe(origin)).append('\n');
        }
      }
      return b.toString();
    }
  }

  public boolean isLinearizable() {
    return verdict == Verdict.LINEARIZABLE;
  }

  public List<Violation> violations() {
    return keys.stream().filter(k -> k.violation() != null).map(KeyResult::violation).toList();
  }

  /** Throws an AssertionError carrying {@link #report()} unless the history is linearizable. */
  public CheckResult assertLinearizable() {
    if (!isLinearizable()) {
      throw new AssertionError(report());
    }
    return this;
  }

  /** A summary line, then every violation explained and every unknown key with its reason. */
  public String report() {
    long ops = keys.stream().mapToLong(KeyResult::ops).sum();
    long dropped = keys.stream().mapToLong(KeyResult::dropped).sum();
    long steps = keys.stream().mapToLong(KeyResult::steps).sum();
    var b = new StringBuilder();
    b.append(verdict).append(" (").append(model).append(" model): ").append(keys.size())
        .append(" keys, ").append(ops).append(" ops checked, ").append(dropped)
        .append(" left out (unanswered reads, unknown writes nobody could see), ")
        .append(steps).append(" steps, ")
        .append(elapsed.toMillis()).append(" ms\n");
    String unknown = keys.stream().filter(k -> k.verdict() == Verdict.UNKNOWN)
        .map(k -> "  " + k.key() + ": unknown, " + k.reason())
        .collect(Collectors.joining("\n"));
    for (Violation v : violations()) {
      b.append(v.explain());
    }
    if (!unknown.isEmpty()) {
      b.append(unknown).append('\n');
    }
    return b.toString();
  }

  @Override
  public String toString() {
    return report();
  }
}
