package dev.flotilla.kv.cluster.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.kv.cluster.check.CheckResult.Verdict;
import org.junit.jupiter.api.Test;

/** Hand-made histories with CAS (prevValue), create (prevExist=false) and delete. */
class CasRegisterHistoriesTest {

  private static Verdict verdict(HistoryBuilder h) {
    var r = new LinearizabilityChecker().check(h.ops(), RegisterModel.casRegister());
    return r.verdict();
  }

  @Test
  void aChainOfCasFromTheCurrentValueIsLinearizable() {
    assertThat(verdict(new HistoryBuilder()
        .write(1, "0", 0, 10)
        .cas(1, "0", "1", true, 20, 30)
        .cas(2, "1", "2", true, 40, 50)
        .cas(1, "1", "3", false, 60, 70)
        .read(2, "2", 80, 90))).isEqualTo(Verdict.LINEARIZABLE);
  }

  @Test
  void casSucceedingTwiceFromTheSameExpectedValueIsAViolation() {
    var r = new LinearizabilityChecker().check(new HistoryBuilder()
        .write(1, "0", 0, 10)
        .cas(1, "0", "1", true, 20, 30)
        .cas(2, "0", "2", true, 20, 30).ops(), RegisterModel.casRegister());
    assertThat(r.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    assertThat(r.violations().get(0).prefix()).hasSize(2);
    assertThat(r.violations().get(0).unplaceable().kind()).isEqualTo(Op.Kind.CAS);
  }

  @Test
  void concurrentCasFromTheSameValueOneWinsOneFails() {
    assertThat(verdict(new HistoryBuilder()
        .write(1, "0", 0, 10)
        .cas(1, "0", "1", true, 20, 30)
        .cas(2, "0", "2", false, 20, 30)
        .read(3, "1", 40, 50))).isEqualTo(Verdict.LINEARIZABLE);
  }

  @Test
  void casFailingWhileTheValueMatchedIsAViolation() {
    assertThat(verdict(new HistoryBuilder()
        .write(1, "a", 0, 10)
        .cas(2, "a", "b", false, 20, 30))).isEqualTo(Verdict.NOT_LINEARIZABLE);
  }

  @Test
  void casOnAnAbsentKeyFails() {
    assertThat(verdict(new HistoryBuilder()
        .cas(1, "a", "b", false, 0, 10)
        .read(1, null, 20, 30))).isEqualTo(Verdict.LINEARIZABLE);
    assertThat(verdict(new HistoryBuilder()
        .cas(1, "a", "b", true, 0, 10))).isEqualTo(Verdict.NOT_LINEARIZABLE);
  }

  @Test
  void createSucceedsOnceThenFindsTheKey() {
    assertThat(verdict(new HistoryBuilder()
        .create(1, "a", true, 0, 10)
        .create(2, "b", false, 20, 30)
        .read(2, "a", 40, 50))).isEqualTo(Verdict.LINEARIZABLE);
  }

  @Test
  void twoCreatesBothSucceedingIsAViolation() {
    assertThat(verdict(new HistoryBuilder()
        .create(1, "a", true, 0, 10)
        .create(2, "b", true, 20, 30))).isEqualTo(Verdict.NOT_LINEARIZABLE);
    // Concurrent makes no difference: only one can have found the key absent.
    assertThat(verdict(new HistoryBuilder()
        .create(1, "a", true, 0, 30)
        .create(2, "b", true, 5, 25))).isEqualTo(Verdict.NOT_LINEARIZABLE);
  }

  @Test
  void createFailingOnAnAbsentKeyIsAViolation() {
    assertThat(verdict(new HistoryBuilder()
        .create(1, "a", false, 0, 10))).isEqualTo(Verdict.NOT_LINEARIZABLE);
  }

  @Test
  void createAfterDeleteSucceeds() {
    assertThat(verdict(new HistoryBuilder()
        .create(1, "a", true, 0, 10)
        .delete(2, true, 20, 30)
        .create(1, "b", true, 40, 50)
        .read(2, "b", 60, 70))).isEqualTo(Verdict.LINEARIZABLE);
  }

  @Test
  void deleteThenReadOfTheOldValueIsAViolation() {
    assertThat(verdict(new HistoryBuilder()
        .write(1, "a", 0, 10)
        .delete(2, true, 20, 30)
        .read(1, "a", 40, 50))).isEqualTo(Verdict.NOT_LINEARIZABLE);
  }

  @Test
  void deleteOfAnAbsentKeyFailsAndOfAPresentOneMustNot() {
    assertThat(verdict(new HistoryBuilder()
        .delete(1, false, 0, 10)
        .write(1, "a", 20, 30)
        .delete(2, true, 40, 50)
        .delete(2, false, 60, 70))).isEqualTo(Verdict.LINEARIZABLE);
    assertThat(verdict(new HistoryBuilder()
        .write(1, "a", 0, 10)
        .delete(2, false, 20, 30))).isEqualTo(Verdict.NOT_LINEARIZABLE);
  }

  @Test
  void twoConcurrentDeletesCannotBothSucceed() {
    assertThat(verdict(new HistoryBuilder()
        .write(1, "a", 0, 10)
        .delete(1, true, 20, 40)
        .delete(2, true, 25, 35))).isEqualTo(Verdict.NOT_LINEARIZABLE);
    assertThat(verdict(new HistoryBuilder()
        .write(1, "a", 0, 10)
        .delete(1, true, 20, 40)
        .delete(2, false, 25, 35))).isEqualTo(Verdict.LINEARIZABLE);
  }

  @Test
  void aLockHandoverThroughCreateAndCasIsLinearizable() {
    // The pattern Fleet uses: create to take, CAS to hand over, delete to release.
    assertThat(verdict(new HistoryBuilder()
        .create(1, "owner-1", true, 0, 10)
        .create(2, "owner-2", false, 5, 15)
        .cas(1, "owner-1", "owner-2", true, 20, 30)
        .cas(1, "owner-1", "owner-3", false, 35, 45)
        .read(3, "owner-2", 40, 50)
        .delete(2, true, 60, 70)
        .create(3, "owner-3", true, 65, 80))).isEqualTo(Verdict.LINEARIZABLE);
  }
}
