package dev.flotilla.kv.cluster.check;

import dev.flotilla.kv.cluster.check.Op.Kind;
import dev.flotilla.kv.cluster.check.Op.Outcome;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;

/**
 * Seeded random clients against an atomic in-memory store. Each client runs one op at a time;
 * each op takes effect at one instant strictly inside its [call, return] interval, so every history
 * made here is linearizable by construction. Some ops lose their answer (outcome unknown); of
 * those, half took effect and half never did.
 */
final class LinearizableSimulation {

  /**
   * @param valueDomain 0: every write writes a fresh value; n: values drawn from n names, so the
   *     same value is written many times (harder for the checker: reads are ambiguous)
   */
  record Shape(int clients, int keys, int ops, double unknownRate, boolean casOps, int valueDomain) {}

  private record Planned(int id, int client, String key, Kind kind, long call, long at, long ret,
      boolean unknown, boolean tookEffect) {}

  private LinearizableSimulation() {}

  static List<Op> run(long seed, Shape shape) {
    Random rnd = new Random(seed);
    long[] free = new long[shape.clients()];
    for (int c = 0; c < free.length; c++) {
      free[c] = rnd.nextInt(50);
    }
    List<Planned> plan = new ArrayList<>(shape.ops());
    for (int id = 0; id < shape.ops(); id++) {
      int client = rnd.nextInt(shape.clients());
      long call = free[client] + rnd.nextInt(30);
      boolean unknown = rnd.nextDouble() < shape.unknownRate();
      long at;
      long ret;
      if (unknown) {
        // The client gives up after its timeout and goes on; the request may still land much
        // later, after that client's next ops.
        at = call + 1 + rnd.nextInt(1000);
        ret = Op.NEVER;
        free[client] = call + 100 + rnd.nextInt(300);
      } else {
        at = call + 1 + rnd.nextInt(200);
        ret = at + 1 + rnd.nextInt(200);
        free[client] = ret;
      }
      plan.add(new Planned(id, client, "/k" + rnd.nextInt(shape.keys()), kind(rnd, shape.casOps()),
          call, at, ret, unknown, !unknown || rnd.nextBoolean()));
    }
    plan.sort(Comparator.comparingLong(Planned::at).thenComparingInt(Planned::id));

    Map<String, String> store = new HashMap<>();
    int[] fresh = {0};
    List<Op> ops = new ArrayList<>(plan.size());
    for (Planned p : plan) {
      String current = store.get(p.key());
      String expected = null;
      String value = null;
      boolean succeeds = true;
      switch (p.kind()) {
        case READ -> { }
        case WRITE -> value = value(rnd, shape, fresh);
        case CAS -> {
          expected = current != null && rnd.nextInt(3) > 0 ? current : "v" + rnd.nextInt(fresh[0] + 1);
          value = value(rnd, shape, fresh);
          succeeds = expected.equals(current);
        }
        case CREATE -> {
          value = value(rnd, shape, fresh);
          succeeds = current == null;
        }
        case DELETE -> succeeds = current != null;
      }
      if (p.tookEffect() && succeeds && p.kind() != Kind.READ) {
        if (p.kind() == Kind.DELETE) {
          store.remove(p.key());
        } else {
          store.put(p.key(), value);
        }
      }
      Outcome outcome = p.unknown() ? Outcome.UNKNOWN : succeeds ? Outcome.OK : Outcome.FAIL;
      String observed = p.kind() == Kind.READ && !p.unknown() ? current : null;
      ops.add(new Op(p.id(), p.client(), p.key(), p.kind(), expected, value, p.call(), p.ret(),
          outcome, observed));
    }
    ops.sort(Comparator.comparingInt(Op::id));
    return ops;
  }

  private static Kind kind(Random rnd, boolean casOps) {
    int r = rnd.nextInt(10);
    if (!casOps) {
      return r < 5 ? Kind.READ : Kind.WRITE;
    }
    return r < 4 ? Kind.READ : r < 6 ? Kind.WRITE : r < 8 ? Kind.CAS : r < 9 ? Kind.CREATE : Kind.DELETE;
  }

  private static String value(Random rnd, Shape shape, int[] fresh) {
    return shape.valueDomain() == 0 ? "v" + fresh[0]++ : "v" + rnd.nextInt(shape.valueDomain());
  }

  /** {@code ops} with the read at {@code index} answering {@code observed} instead. */
  static List<Op> withRead(List<Op> ops, int index, String observed) {
    Op r = ops.get(index);
    if (r.kind() != Kind.READ || r.outcome() != Outcome.OK) {
      throw new IllegalArgumentException("not an answered read: " + r);
    }
    List<Op> out = new ArrayList<>(ops);
    out.set(index, new Op(r.id(), r.client(), r.key(), r.kind(), null, null, r.call(), r.ret(),
        Outcome.OK, observed));
    return out;
  }

  /** Indexes of the answered reads, to pick one to falsify. */
  static List<Integer> answeredReads(List<Op> ops) {
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < ops.size(); i++) {
      if (ops.get(i).kind() == Kind.READ && ops.get(i).outcome() == Outcome.OK) {
        out.add(i);
      }
    }
    return out;
  }

  /** Values written to {@code key} anywhere in {@code ops}, and "absent", other than {@code not}. */
  static List<String> otherStates(List<Op> ops, String key, String not) {
    List<String> out = new ArrayList<>();
    if (not != null) {
      out.add(null);
    }
    ops.stream().filter(o -> o.key().equals(key) && o.value() != null)
        .map(Op::value).distinct().filter(v -> !Objects.equals(v, not)).forEach(out::add);
    return out;
  }
}
