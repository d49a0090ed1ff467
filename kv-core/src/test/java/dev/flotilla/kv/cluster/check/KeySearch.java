package dev.flotilla.kv.cluster.check;

import dev.flotilla.kv.cluster.check.CheckResult.KeyResult;
import dev.flotilla.kv.cluster.check.CheckResult.Verdict;
import dev.flotilla.kv.cluster.check.CheckResult.Violation;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * The Wing-Gong-Lowe search over one key's history (Lowe, "Testing for linearizability", 2017;
 * the loop of Porcupine's {@code checkSingle}).
 *
 * <p>Call and return events sit in one doubly linked list in time order. The ops whose call comes
 * before the first pending return are the candidates to be linearized next. The search takes one
 * the model accepts in the current state (lifting its two events out of the list) and goes on;
 * when no candidate leads anywhere, the op of that first return cannot be placed after the current
 * prefix, and it undoes the last choice. Lowe's memoisation skips a choice whose (set of
 * linearized ops, state) was reached before: that configuration's future was explored and failed.
 * An op of unknown outcome returns at infinity, so its return event sits behind every real one:
 * once only such events are left, every op with an answer is placed and the unknown ones still
 * pending never took effect.
 *
 * <p>Two refinements over plain WGL, both checked against exhaustive search in
 * {@code BruteForceCrossCheckTest}: a read-only candidate that fits is taken without trying others
 * in its place (see {@link Frame}), and candidates are tried in a likely order (see
 * {@link #candidates()}).
 */
final class KeySearch<S> {

  private static final class Entry {
    final int op;
    final boolean call;
    final long time;
    Entry match;
    Entry prev;
    Entry next;

    Entry(int op, boolean call, long time) {
      this.op = op;
      this.call = call;
      this.time = time;
    }
  }

  /** A memo key: which ops are linearized, and the state they leave. */
  private record Config(long[] linearized, Object state, int hash) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Config c && hash == c.hash && state.equals(c.state)
          && Arrays.equals(linearized, c.linearized);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  /**
   * One choice on the current path. {@code forced}: the op was read-only (a read, a failed CAS)
   * and fit the state, and then putting it first loses nothing: in any linearization of the rest
   * it can move to the front, since nothing left had to precede it and it changes no state. So no
   * other op is tried in its place, which spares trying every interleaving of concurrent reads.
   */
  private record Frame<S>(Entry call, S stateBefore, boolean forced, Entry[] candidates, int next) {}

  private final String key;
  private final List<Op> ops;
  private final int dropped;
  private final Model<S> model;
  private final long stepBudget;
  private final long deadlineNanos;

  private final Entry head = new Entry(-1, false, Long.MIN_VALUE);
  private final long[] linearized;
  private final Set<Config> seen = new HashSet<>();
  private final ArrayDeque<Frame<S>> stack = new ArrayDeque<>();
  private S state;
  private long steps;
  private Violation deepest;

  KeySearch(String key, List<Op> ops, int dropped, Model<S> model, long stepBudget, long deadlineNanos) {
    this.key = key;
    this.ops = ops;
    this.dropped = dropped;
    this.model = model;
    this.stepBudget = stepBudget;
    this.deadlineNanos = deadlineNanos;
    this.linearized = new long[(ops.size() + 63) / 64];
    link();
  }

  private void link() {
    List<Entry> entries = new ArrayList<>(2 * ops.size());
    for (int i = 0; i < ops.size(); i++) {
      Op op = ops.get(i);
      Entry call = new Entry(i, true, op.call());
      Entry ret = new Entry(i, false, op.ret());
      call.match = ret;
      entries.add(call);
      entries.add(ret);
    }
    // Equal times: calls first, so ops that touch count as concurrent (never a false violation).
    entries.sort(Comparator.<Entry>comparingLong(e -> e.time)
        .thenComparing(e -> !e.call)
        .thenComparingInt(e -> ops.get(e.op).id()));
    Entry prev = head;
    for (Entry e : entries) {
      prev.next = e;
      e.prev = prev;
      prev = e;
    }
  }

  KeyResult run() {
    state = model.initial();
    Entry[] candidates = candidates();
    int next = 0;
    while (candidates != null) {
      if (++steps > stepBudget) {
        return unknown("step budget of " + stepBudget + " exhausted");
      }
      if ((steps & 0xfff) == 0 && System.nanoTime() - deadlineNanos > 0) {
        return unknown("timeout after " + steps + " steps");
      }
      if (next < candidates.length) {
        Entry c = candidates[next++];
        Op op = ops.get(c.op);
        S after = model.step(state, op);
        if (after == null) {
          continue;
        }
        boolean forced = model.readOnly(op);
        set(c.op);
        long[] copy = linearized.clone();
        if (seen.add(new Config(copy, after, 31 * Arrays.hashCode(copy) + after.hashCode()))) {
          stack.push(new Frame<>(c, state, forced, candidates, next));
          state = after;
          lift(c);
          candidates = candidates();
          next = 0;
          continue;
        }
        clear(c.op);
        if (forced) {
          next = candidates.length; // it was the only choice here, and it was explored before
        }
        continue;
      }
      // No candidate leads anywhere: the op that returns first cannot be placed after this prefix.
      if (deepest == null || stack.size() > deepest.prefix().size()) {
        deepest = violationAt(firstReturn());
      }
      if (stack.isEmpty()) {
        return new KeyResult(key, Verdict.NOT_LINEARIZABLE, ops.size(), dropped, steps, deepest, null);
      }
      Frame<S> f = stack.pop();
      state = f.stateBefore();
      clear(f.call().op);
      unlift(f.call());
      candidates = f.candidates();
      next = f.forced() ? candidates.length : f.next();
    }
    return new KeyResult(key, Verdict.LINEARIZABLE, ops.size(), dropped, steps, null, null);
  }

  /**
   * The ops that may be linearized next: those called before the first pending return. Null when
   * no op with an answer is left (the rest, of unknown outcome, never took effect). Read-only ops
   * come first, as the first of them that fits is the only choice needed. The rest go by return
   * time, and an op of unknown outcome by its call time: a guess at the real order, so that a
   * linearization, when there is one, is found before much time goes into dead ends. (Unknown ops
   * tried last made histories with many lost answers far slower to check.)
   */
  private Entry[] candidates() {
    List<Entry> out = new ArrayList<>();
    Entry e = head.next;
    for (; e != null && e.call; e = e.next) {
      out.add(e);
    }
    if (e == null || e.time == Op.NEVER) {
      return null;
    }
    out.sort(Comparator.<Entry, Boolean>comparing(x -> !model.readOnly(ops.get(x.op)))
        .thenComparingLong(x -> x.match.time == Op.NEVER ? x.time : x.match.time));
    return out.toArray(Entry[]::new);
  }

  private Entry firstReturn() {
    Entry e = head.next;
    while (e.call) {
      e = e.next;
    }
    return e;
  }

  private KeyResult unknown(String reason) {
    return new KeyResult(key, Verdict.UNKNOWN, ops.size(), dropped, steps - 1, null, reason);
  }

  private Violation violationAt(Entry ret) {
    List<Op> prefix = new ArrayList<>(stack.size());
    for (Iterator<Frame<S>> it = stack.descendingIterator(); it.hasNext(); ) {
      prefix.add(ops.get(it.next().call().op));
    }
    List<Op> pending = new ArrayList<>();
    for (Entry x = head.next; x != ret; x = x.next) {
      if (x.call && x.op != ret.op) {
        pending.add(ops.get(x.op));
      }
    }
    Op blocked = ops.get(ret.op);
    return new Violation(key, List.copyOf(prefix), model.describe(state), blocked,
        model.step(state, blocked) == null, List.copyOf(pending));
  }

  private static void lift(Entry call) {
    call.prev.next = call.next;
    call.next.prev = call.prev;
    Entry ret = call.match;
    ret.prev.next = ret.next;
    if (ret.next != null) {
      ret.next.prev = ret.prev;
    }
  }

  private static void unlift(Entry call) {
    Entry ret = call.match;
    ret.prev.next = ret;
    if (ret.next != null) {
      ret.next.prev = ret;
    }
    call.prev.next = call;
    call.next.prev = call;
  }

  private void set(int i) {
    linearized[i >>> 6] |= 1L << i;
  }

  private void clear(int i) {
    linearized[i >>> 6] &= ~(1L << i);
  }
}
