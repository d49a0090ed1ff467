package dev.flotilla.kv.cluster.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flotilla.kv.cluster.check.CheckResult.Verdict;
import dev.flotilla.kv.cluster.check.CheckResult.Violation;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand-made read/write histories with a known answer, checked against the plain register. */
class RegisterHistoriesTest {

  private static CheckResult check(HistoryBuilder h) {
    return new LinearizabilityChecker().check(h.ops(), RegisterModel.register());
  }

  @Test
  void sequentialWritesAndReadsAreLinearizable() {
    var r = check(new HistoryBuilder()
        .read(1, null, 0, 5)
        .write(1, "a", 10, 20)
        .read(2, "a", 30, 40)
        .write(2, "b", 50, 60)
        .read(1, "b", 70, 80));
    assertThat(r.verdict()).as(r.report()).isEqualTo(Verdict.LINEARIZABLE);
    assertThat(r.keys()).singleElement().satisfies(k -> assertThat(k.ops()).isEqualTo(5));
  }

  @Test
  void staleReadAfterAcknowledgedWriteIsAViolation() {
    var r = check(new HistoryBuilder()
        .write(1, "a", 0, 10)
        .write(1, "b", 20, 30)
        .read(2, "a", 40, 50));
    assertThat(r.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    Violation v = r.violations().get(0);
    assertThat(v.key()).isEqualTo("/k");
    assertThat(v.prefix()).extracting(Op::id).containsExactly(0, 1);
    assertThat(v.stateAfterPrefix()).isEqualTo("\"b\"");
    assertThat(v.unplaceable().id()).isEqualTo(2);
    assertThat(v.unplaceableAlone()).isTrue();
  }

  @Test
  void acknowledgedWriteLostIsAViolation() {
    // The write was acknowledged, then the key reads as never written.
    var r = check(new HistoryBuilder()
        .write(1, "a", 0, 10)
        .read(2, null, 20, 30));
    assertThat(r.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    assertThat(r.violations().get(0).unplaceable().id()).isEqualTo(1);
  }

  @Test
  void readOfAValueNeverWrittenIsAViolation() {
    var r = check(new HistoryBuilder()
        .write(1, "a", 0, 100)
        .read(2, "z", 10, 20));
    assertThat(r.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    Violation v = r.violations().get(0);
    assertThat(v.unplaceable().observed()).isEqualTo("z");
    assertThat(v.unplaceableAlone()).isTrue();
  }

  @Test
  void overlappingWritesAreFineInEitherOrder() {
    // b can take effect before a, or after: a later read may see either.
    for (String last : new String[] {"a", "b"}) {
      var r = check(new HistoryBuilder()
          .write(1, "a", 0, 100)
          .write(2, "b", 10, 90)
          .read(3, last, 110, 120));
      assertThat(r.verdict()).as("last read " + last).isEqualTo(Verdict.LINEARIZABLE);
    }
  }

  @Test
  void overlappingWritesCannotBeSeenInBothOrders() {
    var r = check(new HistoryBuilder()
        .write(1, "a", 0, 100)
        .write(2, "b", 10, 90)
        .read(3, "a", 110, 120)
        .read(3, "b", 130, 140));
    assertThat(r.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
  }

  @Test
  void readsDuringAWriteMaySeeEitherValueButNeverGoBack() {
    var fine = check(new HistoryBuilder()
        .write(1, "a", 0, 100)
        .read(2, null, 10, 20)
        .read(3, "a", 30, 40)
        .read(2, "a", 50, 60));
    assertThat(fine.verdict()).isEqualTo(Verdict.LINEARIZABLE);

    var back = check(new HistoryBuilder()
        .write(1, "a", 0, 100)
        .read(2, null, 10, 20)
        .read(3, "a", 30, 40)
        .read(2, null, 50, 60));
    assertThat(back.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    assertThat(back.violations().get(0).unplaceable().id()).isEqualTo(3);
  }

  @Test
  void concurrentReadersMayDisagreeAboutAnInFlightWrite() {
    // Reader 2 overlaps the write and sees it; reader 3 overlaps reader 2's read and the write and
    // does not: fine, 3 goes first.
    var r = check(new HistoryBuilder()
        .write(1, "a", 0, 100)
        .read(2, "a", 10, 50)
        .read(3, null, 40, 60));
    assertThat(r.verdict()).isEqualTo(Verdict.LINEARIZABLE);
  }

  @Test
  void opsThatTouchCountAsConcurrent() {
    // The read was sent at the instant the write returned: the clocks cannot order them.
    var r = check(new HistoryBuilder()
        .write(1, "a", 0, 10)
        .read(2, null, 10, 20));
    assertThat(r.verdict()).isEqualTo(Verdict.LINEARIZABLE);
  }

  @Test
  void keysAreCheckedIndependentlyAndTheViolationNamesItsKey() {
    var r = check(new HistoryBuilder()
        .on("/a").write(1, "x", 0, 10).read(2, "x", 20, 30)
        .on("/b").write(1, "x", 0, 10).read(2, "y", 20, 30)
        .on("/c").read(3, null, 0, 30));
    assertThat(r.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    assertThat(r.keys()).extracting(CheckResult.KeyResult::key, CheckResult.KeyResult::verdict)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("/a", Verdict.LINEARIZABLE),
            org.assertj.core.groups.Tuple.tuple("/b", Verdict.NOT_LINEARIZABLE),
            org.assertj.core.groups.Tuple.tuple("/c", Verdict.LINEARIZABLE));
    assertThat(r.violations()).extracting(Violation::key).containsExactly("/b");
  }

  @Test
  void theReportExplainsTheViolationForATestFailure() {
    var r = check(new HistoryBuilder()
        .write(1, "a", 1000, 1010)
        .write(1, "b", 1020, 1030)
        .read(2, "a", 1040, 1050));
    assertThatThrownBy(r::assertLinearizable)
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("NOT_LINEARIZABLE (register model): 1 keys, 3 ops checked")
        .hasMessageContaining("key /k is not linearizable")
        .hasMessageContaining("longest linearizable prefix: 2 ops")
        .hasMessageContaining("#1 c1 /k write(\"b\") ok [20..30]")
        .hasMessageContaining("state after it: \"b\"")
        .hasMessageContaining("cannot place: #2 c2 /k read() -> \"a\" [40..50]")
        .hasMessageContaining("impossible in state \"b\"");
  }

  @Test
  void aLongPrefixIsShownByItsTail() {
    var h = new HistoryBuilder();
    for (int i = 0; i < 30; i++) {
      h.write(1, "v" + i, i * 10, i * 10 + 5);
    }
    h.read(2, "v3", 400, 410);
    var r = check(h);
    String explained = r.violations().get(0).explain();
    assertThat(explained).contains("prefix: 30 ops, the last 12 shown").contains("write(\"v29\")")
        .doesNotContain("write(\"v17\")");
  }

  @Test
  void theRegisterModelRefusesCasHistories() {
    var ops = new HistoryBuilder().cas(1, "a", "b", true, 0, 10).ops();
    assertThatThrownBy(() -> new LinearizabilityChecker().check(ops, RegisterModel.register()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("RegisterModel.casRegister()");
  }

  @Test
  void duplicateIdsAreRefused() {
    var op = new HistoryBuilder().write(1, "a", 0, 10).ops().get(0);
    assertThatThrownBy(() -> new LinearizabilityChecker().check(List.of(op, op), RegisterModel.register()))
        .hasMessageContaining("op id 0 appears twice");
  }

  @Test
  void anEmptyHistoryIsLinearizable() {
    assertThat(new LinearizabilityChecker().check(List.of(), RegisterModel.register()).verdict())
        .isEqualTo(Verdict.LINEARIZABLE);
  }
}
