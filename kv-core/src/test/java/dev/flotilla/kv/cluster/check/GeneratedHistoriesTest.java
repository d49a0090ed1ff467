package dev.flotilla.kv.cluster.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.kv.cluster.check.CheckResult.KeyResult;
import dev.flotilla.kv.cluster.check.CheckResult.Verdict;
import dev.flotilla.kv.cluster.check.LinearizableSimulation.Shape;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Histories from {@link LinearizableSimulation}, linearizable by construction, must check
 * linearizable; with one read falsified they must (nearly always) not. A failing seed replays
 * alone: {@code -Dtest='GeneratedHistoriesTest#casHistoriesAreLinearizable'} shows it in the name.
 */
class GeneratedHistoriesTest {

  private static final Shape CAS = new Shape(6, 3, 300, 0.05, true, 0);
  private static final Shape PLAIN = new Shape(6, 3, 300, 0.05, false, 0);
  /** Few distinct values, written over and over: reads no longer say which write they saw. */
  private static final Shape FEW_VALUES = new Shape(6, 2, 200, 0.05, true, 3);
  /** Many answers lost, as under a partition. */
  private static final Shape MANY_UNKNOWN = new Shape(8, 2, 200, 0.25, true, 0);

  static LongStream seeds() {
    return LongStream.rangeClosed(1, 100);
  }

  private static CheckResult check(List<Op> ops, boolean cas) {
    return new LinearizabilityChecker().check(ops, cas ? RegisterModel.casRegister() : RegisterModel.register());
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void casHistoriesAreLinearizable(long seed) {
    var r = check(LinearizableSimulation.run(seed, CAS), true);
    assertThat(r.verdict()).as("seed %d\n%s", seed, r.report()).isEqualTo(Verdict.LINEARIZABLE);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void registerHistoriesAreLinearizable(long seed) {
    var r = check(LinearizableSimulation.run(seed, PLAIN), false);
    assertThat(r.verdict()).as("seed %d\n%s", seed, r.report()).isEqualTo(Verdict.LINEARIZABLE);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void historiesWithRepeatedValuesAreLinearizable(long seed) {
    var r = check(LinearizableSimulation.run(seed, FEW_VALUES), true);
    assertThat(r.verdict()).as("seed %d\n%s", seed, r.report()).isEqualTo(Verdict.LINEARIZABLE);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void historiesWithManyLostAnswersAreLinearizable(long seed) {
    var r = check(LinearizableSimulation.run(seed, MANY_UNKNOWN), true);
    assertThat(r.verdict()).as("seed %d\n%s", seed, r.report()).isEqualTo(Verdict.LINEARIZABLE);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void aReadOfAValueNeverWrittenIsAlwaysCaught(long seed) {
    List<Op> ops = LinearizableSimulation.run(seed, CAS);
    Random rnd = new Random(seed);
    List<Integer> reads = LinearizableSimulation.answeredReads(ops);
    int victim = reads.get(rnd.nextInt(reads.size()));
    var r = check(LinearizableSimulation.withRead(ops, victim, "never-written"), true);
    assertThat(r.verdict()).as("seed %d", seed).isEqualTo(Verdict.NOT_LINEARIZABLE);
    assertThat(r.violations()).singleElement()
        .satisfies(v -> assertThat(v.key()).isEqualTo(ops.get(victim).key()));
  }

  /**
   * A read changed to another value the key held at some time, or to "absent", is usually
   * caught; not always, as the new answer can be one a concurrent write makes legal.
   */
  @Test
  void aReadOfAnotherWrittenValueIsMostlyCaught() {
    int caught = 0;
    int tries = 200;
    for (long seed = 1; seed <= tries; seed++) {
      for (Shape shape : new Shape[] {CAS, PLAIN}) {
        List<Op> ops = LinearizableSimulation.run(seed, shape);
        Random rnd = new Random(seed);
        List<Integer> reads = LinearizableSimulation.answeredReads(ops);
        int victim = reads.get(rnd.nextInt(reads.size()));
        Op read = ops.get(victim);
        List<String> others = LinearizableSimulation.otherStates(ops, read.key(), read.observed());
        String lie = others.get(rnd.nextInt(others.size()));
        var r = check(LinearizableSimulation.withRead(ops, victim, lie), shape.casOps());
        assertThat(r.verdict()).as("seed %d", seed).isNotEqualTo(Verdict.UNKNOWN);
        if (r.verdict() == Verdict.NOT_LINEARIZABLE) {
          caught++;
          assertThat(r.violations().get(0).key()).isEqualTo(read.key());
        }
      }
    }
    assertThat(caught).as("caught of %d", 2 * tries).isGreaterThan(2 * tries * 8 / 10);
  }

  /** The size a chaos run produces: 10,000 ops on 50 keys from 16 clients, 2% answers lost. */
  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void tenThousandOpsOnFiftyKeysCheckLinearizableWithinAModestSearch() {
    List<Op> ops = LinearizableSimulation.run(42, new Shape(16, 50, 10_000, 0.02, true, 0));
    var r = check(ops, true);
    System.out.println("10k ops / 50 keys / 16 clients: " + r.report());
    assertThat(r.verdict()).as(r.report()).isEqualTo(Verdict.LINEARIZABLE);
    assertThat(r.keys()).hasSize(50);
    // A deterministic stand-in for time: each step is well under a microsecond.
    assertThat(r.keys().stream().mapToLong(KeyResult::steps).sum()).isLessThan(1_000_000);
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void oneFalsifiedReadAmongTenThousandOpsIsFound() {
    List<Op> ops = LinearizableSimulation.run(43, new Shape(16, 50, 10_000, 0.02, true, 0));
    List<Integer> reads = LinearizableSimulation.answeredReads(ops);
    int victim = reads.get(reads.size() / 2);
    var r = check(LinearizableSimulation.withRead(ops, victim, "never-written"), true);
    assertThat(r.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    assertThat(r.violations()).extracting(CheckResult.Violation::key).containsExactly(ops.get(victim).key());
    assertThat(r.keys()).filteredOn(k -> k.verdict() == Verdict.LINEARIZABLE).hasSize(49);
  }
}
