package dev.flotilla.kv.cluster.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.kv.cluster.check.CheckResult.Verdict;
import dev.flotilla.kv.cluster.check.Op.Kind;
import dev.flotilla.kv.cluster.check.Op.Outcome;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The checker against the definition itself: small random histories (answers made up, so about
 * half are not linearizable), judged by trying every subset of the unknown ops and every order
 * that respects real time. The two must agree on every one.
 */
class BruteForceCrossCheckTest {

  private static final String[] VALUES = {"a", "b", "c"};
  private final RegisterModel model = RegisterModel.casRegister();

  @Test
  void theCheckerAgreesWithExhaustiveSearchOnSmallRandomHistories() {
    int linearizable = 0;
    int histories = 3_000;
    for (long seed = 1; seed <= histories; seed++) {
      List<Op> ops = randomHistory(new Random(seed));
      boolean expected = bruteForce(ops);
      var r = new LinearizabilityChecker().check(ops, model);
      assertThat(r.verdict())
          .as("seed %d, history %s\n%s", seed, ops, r.report())
          .isEqualTo(expected ? Verdict.LINEARIZABLE : Verdict.NOT_LINEARIZABLE);
      linearizable += expected ? 1 : 0;
    }
    // Both answers must be well represented, or the agreement says little.
    assertThat(linearizable).isBetween(histories / 5, histories * 4 / 5);
  }

  private static List<Op> randomHistory(Random rnd) {
    int n = 2 + rnd.nextInt(6);
    List<Op> ops = new ArrayList<>();
    for (int id = 0; id < n; id++) {
      long call = rnd.nextInt(20);
      boolean unknown = rnd.nextInt(6) == 0;
      long ret = unknown ? Op.NEVER : call + rnd.nextInt(8);
      Kind kind = Kind.values()[rnd.nextInt(Kind.values().length)];
      if (kind == Kind.READ && unknown) {
        kind = Kind.WRITE;
      }
      String v = VALUES[rnd.nextInt(VALUES.length)];
      Outcome outcome = unknown ? Outcome.UNKNOWN
          : kind == Kind.READ || kind == Kind.WRITE || rnd.nextBoolean() ? Outcome.OK : Outcome.FAIL;
      String observed = kind == Kind.READ && rnd.nextInt(4) > 0 ? v : null;
      ops.add(new Op(id, id, "/k", kind, kind == Kind.CAS ? VALUES[rnd.nextInt(VALUES.length)] : null,
          kind == Kind.WRITE || kind == Kind.CAS || kind == Kind.CREATE ? v : null,
          call, ret, outcome, observed));
    }
    return ops;
  }

  private boolean bruteForce(List<Op> ops) {
    List<Op> unknown = ops.stream().filter(Op::unknown).toList();
    for (int mask = 0; mask < 1 << unknown.size(); mask++) {
      List<Op> included = new ArrayList<>();
      for (Op op : ops) {
        int u = unknown.indexOf(op);
        if (u < 0 || (mask & 1 << u) != 0) {
          included.add(op);
        }
      }
      if (order(included, model.initial())) {
        return true;
      }
    }
    return false;
  }

  /** Can {@code left} be ordered, starting in {@code state}, with real-time order respected? */
  private boolean order(List<Op> left, RegisterModel.Value state) {
    if (left.isEmpty()) {
      return true;
    }
    for (Op next : left) {
      // next may go first only if no op left returned before next was called.
      boolean first = left.stream().noneMatch(o -> o != next && o.ret() < next.call());
      RegisterModel.Value after = first ? model.step(state, next) : null;
      if (after != null) {
        List<Op> rest = new ArrayList<>(left);
        rest.remove(next);
        if (order(rest, after)) {
          return true;
        }
      }
    }
    return false;
  }
}
