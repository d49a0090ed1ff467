package dev.flotilla.kv.cluster.check;

import dev.flotilla.kv.cluster.check.CheckResult.KeyResult;
import dev.flotilla.kv.cluster.check.CheckResult.Verdict;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Checks a history of single-key operations for linearizability, one key at a time (a history is
 * linearizable iff each key's sub-history is: Herlihy and Wing's locality).
 *
 * <pre>{@code
 * CheckResult r = new LinearizabilityChecker().check(history.ops(), RegisterModel.casRegister());
 * r.assertLinearizable();   // AssertionError with the report otherwise
 * }</pre>
 *
 * Two limits keep a pathological key from hanging a test: a step budget per key and a deadline
 * for the whole check. A key that hits either is UNKNOWN, never reported as linearizable.
 */
public final class LinearizabilityChecker {

  /** Roughly a second of search on one key; the memo table can grow by ~150 bytes a step. */
  public static final long DEFAULT_STEP_BUDGET = 2_000_000;
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

  private final long stepBudgetPerKey;
  private final Duration timeout;

  public LinearizabilityChecker() {
    this(DEFAULT_STEP_BUDGET, DEFAULT_TIMEOUT);
  }

  private LinearizabilityChecker(long stepBudgetPerKey, Duration timeout) {
    if (stepBudgetPerKey < 1 || timeout.isNegative()) {
      throw new IllegalArgumentException("step budget must be >= 1 and timeout >= 0, got "
          + stepBudgetPerKey + " and " + timeout);
    }
    this.stepBudgetPerKey = stepBudgetPerKey;
    this.timeout = timeout;
  }

  /** Search steps allowed per key before it is reported UNKNOWN. Deterministic, unlike the timeout. */
  public LinearizabilityChecker withStepBudgetPerKey(long steps) {
    return new LinearizabilityChecker(steps, timeout);
  }

  /** Wall-clock limit for the whole check; keys not finished by then are UNKNOWN. */
  public LinearizabilityChecker withTimeout(Duration timeout) {
    return new LinearizabilityChecker(stepBudgetPerKey, timeout);
  }

  public <S> CheckResult check(Collection<Op> history, Model<S> model) {
    long start = System.nanoTime();
    long deadline = start + Math.min(timeout.toNanos(), Long.MAX_VALUE / 4);
    Map<String, List<Op>> byKey = new TreeMap<>();
    Set<Integer> ids = new HashSet<>();
    for (Op op : history) {
      model.validate(op);
      if (!ids.add(op.id())) {
        throw new IllegalArgumentException("op id " + op.id() + " appears twice in the history");
      }
      byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
    }
    List<KeyResult> results = new ArrayList<>(byKey.size());
    for (var e : byKey.entrySet()) {
      results.add(checkKey(e.getKey(), e.getValue(), model, deadline));
    }
    Verdict verdict = results.stream().anyMatch(r -> r.verdict() == Verdict.NOT_LINEARIZABLE)
        ? Verdict.NOT_LINEARIZABLE
        : results.stream().anyMatch(r -> r.verdict() == Verdict.UNKNOWN)
            ? Verdict.UNKNOWN : Verdict.LINEARIZABLE;
    return new CheckResult(verdict, model.toString(), List.copyOf(results),
        Duration.ofNanos(System.nanoTime() - start));
  }

  private <S> KeyResult checkKey(String key, List<Op> ops, Model<S> model, long deadline) {
    // A read whose answer never came tells nothing and changes nothing.
    List<Op> kept = new ArrayList<>(ops.size());
    for (Op op : ops) {
      if (!(op.kind() == Op.Kind.READ && op.unknown())) {
        kept.add(op);
      }
    }
    Set<Op> unobservable = new HashSet<>(model.unobservable(kept));
    if (!unobservable.isEmpty()) {
      kept.removeIf(unobservable::contains);
    }
    int dropped = ops.size() - kept.size();
    if (System.nanoTime() - deadline > 0) {
      return new KeyResult(key, Verdict.UNKNOWN, kept.size(), dropped, 0, null,
          "not checked, the " + timeout + " timeout had passed");
    }
    return new KeySearch<>(key, kept, dropped, model, stepBudgetPerKey, deadline).run();
  }
}
