package dev.flotilla.kv.cluster.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.kv.cluster.check.CheckResult.KeyResult;
import dev.flotilla.kv.cluster.check.CheckResult.Verdict;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Ops whose answer never came: they may take effect at any time after their call, or never, and
 * at most once. Also the limits that turn a search too long into UNKNOWN.
 */
class UnknownOutcomeTest {

  private static CheckResult check(HistoryBuilder h) {
    return new LinearizabilityChecker().check(h.ops(), RegisterModel.casRegister());
  }

  @Test
  void anUnknownWriteExplainsALaterRead() {
    var r = check(new HistoryBuilder()
        .write(1, "a", 0, 10)
        .writeUnknown(2, "b", 20)
        .read(1, "a", 30, 40)
        .read(3, "b", 1_000, 1_010)
        .read(1, "b", 2_000, 2_010));
    assertThat(r.verdict()).as(r.report()).isEqualTo(Verdict.LINEARIZABLE);
  }

  @Test
  void anUnknownWriteMayNeverTakeEffect() {
    var r = check(new HistoryBuilder()
        .write(1, "a", 0, 10)
        .writeUnknown(2, "b", 20)
        .read(1, "a", 30, 40)
        .read(3, "a", 1_000, 1_010));
    assertThat(r.verdict()).isEqualTo(Verdict.LINEARIZABLE);
  }

  @Test
  void anUnknownWriteCannotTakeEffectBeforeItWasSent() {
    var r = check(new HistoryBuilder()
        .read(1, "b", 0, 10)
        .writeUnknown(2, "b", 20));
    assertThat(r.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
  }

  @Test
  void anUnknownWriteTakesEffectAtMostOnce() {
    var r = check(new HistoryBuilder()
        .writeUnknown(1, "x", 0)
        .read(2, "x", 10, 20)
        .write(2, "y", 30, 40)
        .read(2, "x", 50, 60));
    assertThat(r.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    var v = r.violations().get(0);
    assertThat(v.unplaceable().id()).isEqualTo(3);
    assertThat(v.stateAfterPrefix()).isEqualTo("\"y\"");
  }

  @Test
  void onceSeenAnUnknownWriteCannotBeUnseen() {
    var r = check(new HistoryBuilder()
        .writeUnknown(1, "a", 0)
        .read(2, "a", 10, 20)
        .read(2, null, 30, 40));
    assertThat(r.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
  }

  @Test
  void anUnknownCasExplainsALaterReadOnlyFromItsExpectedValue() {
    assertThat(check(new HistoryBuilder()
        .write(1, "0", 0, 10)
        .casUnknown(2, "0", "1", 20)
        .read(1, "1", 30, 40)).verdict()).isEqualTo(Verdict.LINEARIZABLE);
    assertThat(check(new HistoryBuilder()
        .write(1, "0", 0, 10)
        .casUnknown(2, "9", "1", 20)
        .read(1, "1", 30, 40)).verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
  }

  @Test
  void anUnknownCreateExplainsAlreadyExists() {
    assertThat(check(new HistoryBuilder()
        .createUnknown(1, "a", 0)
        .create(2, "b", false, 10, 20)
        .read(2, "a", 30, 40)).verdict()).isEqualTo(Verdict.LINEARIZABLE);
  }

  @Test
  void anUnknownDeleteExplainsAbsence() {
    assertThat(check(new HistoryBuilder()
        .write(1, "a", 0, 10)
        .deleteUnknown(2, 20)
        .read(1, "a", 30, 40)
        .read(1, null, 50, 60)
        .create(3, "b", true, 70, 80)).verdict()).isEqualTo(Verdict.LINEARIZABLE);
  }

  @Test
  void readsWithoutAnAnswerAreDropped() {
    var r = check(new HistoryBuilder()
        .write(1, "a", 0, 10)
        .readUnknown(2, 20)
        .read(1, "a", 30, 40));
    assertThat(r.verdict()).isEqualTo(Verdict.LINEARIZABLE);
    assertThat(r.keys().get(0)).extracting(KeyResult::ops, KeyResult::dropped).containsExactly(2, 1);
  }

  @Test
  void unknownWritesNobodyCouldObserveAreLeftOut() {
    // 300 timed-out writes in flight together would be a 2^300 search; none was ever read, so the
    // checker drops them and only the 40 answered ops remain.
    var h = new HistoryBuilder();
    for (int i = 0; i < 300; i++) {
      h.writeUnknown(100 + i, "lost" + i, i);
    }
    for (int i = 0; i < 20; i++) {
      h.write(1, "v" + i, 1_000 + 100 * i, 1_000 + 100 * i + 10);
      h.read(2, "v" + i, 1_000 + 100 * i + 20, 1_000 + 100 * i + 30);
    }
    var r = new LinearizabilityChecker().check(h.ops(), RegisterModel.register());
    assertThat(r.verdict()).isEqualTo(Verdict.LINEARIZABLE);
    assertThat(r.keys().get(0)).extracting(KeyResult::ops, KeyResult::dropped).containsExactly(40, 300);
  }

  @Test
  void anUnknownWriteThatWasReadIsKept() {
    var r = check(new HistoryBuilder()
        .writeUnknown(1, "a", 0)
        .writeUnknown(1, "never-seen", 5)
        .read(2, "a", 10, 20));
    assertThat(r.keys().get(0)).extracting(KeyResult::ops, KeyResult::dropped).containsExactly(2, 1);
  }

  @Test
  void unknownWritesAreKeptWhenAFailedCasCouldNeedThem() {
    // cas(a->c) failed after a was written: only the unknown write of b explains it.
    var r = check(new HistoryBuilder()
        .write(1, "a", 0, 10)
        .writeUnknown(2, "b", 20)
        .cas(1, "a", "c", false, 30, 40));
    assertThat(r.verdict()).isEqualTo(Verdict.LINEARIZABLE);
    assertThat(r.keys().get(0).dropped()).isZero();
  }

  @Test
  void aSearchOverItsStepBudgetIsUnknownNotLinearizable() {
    var h = new HistoryBuilder();
    for (int i = 0; i < 50; i++) {
      h.write(1, "v" + i, i * 10, i * 10 + 5);
    }
    var r = new LinearizabilityChecker().withStepBudgetPerKey(20).check(h.ops(), RegisterModel.register());
    assertThat(r.verdict()).isEqualTo(Verdict.UNKNOWN);
    assertThat(r.isLinearizable()).isFalse();
    assertThat(r.keys().get(0).reason()).isEqualTo("step budget of 20 exhausted");
    assertThat(r.report()).contains("/k: unknown, step budget of 20 exhausted");
  }

  @Test
  void aViolationOnOneKeyOutranksAnUnknownOnAnother() {
    var h = new HistoryBuilder().on("/long");
    for (int i = 0; i < 50; i++) {
      h.write(1, "v" + i, i * 10, i * 10 + 5);
    }
    h.on("/bad").write(1, "a", 0, 10).read(2, "b", 20, 30);
    var r = new LinearizabilityChecker().withStepBudgetPerKey(20).check(h.ops(), RegisterModel.register());
    assertThat(r.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    assertThat(r.keys()).extracting(KeyResult::key, KeyResult::verdict).containsExactly(
        org.assertj.core.groups.Tuple.tuple("/bad", Verdict.NOT_LINEARIZABLE),
        org.assertj.core.groups.Tuple.tuple("/long", Verdict.UNKNOWN));
  }

  @Test
  void keysLeftWhenTheTimeoutHasPassedAreUnknown() {
    var r = new LinearizabilityChecker().withTimeout(Duration.ZERO).check(new HistoryBuilder()
        .on("/a").write(1, "a", 0, 10)
        .on("/b").write(1, "b", 0, 10).ops(), RegisterModel.register());
    assertThat(r.verdict()).isEqualTo(Verdict.UNKNOWN);
    assertThat(r.keys()).allSatisfy(k -> assertThat(k.reason()).startsWith("not checked, the PT0S timeout"));
  }
}
