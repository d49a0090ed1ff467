package dev.flotilla.kv.cluster.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flotilla.kv.cluster.check.CheckResult.Verdict;
import dev.flotilla.kv.cluster.check.Op.Kind;
import dev.flotilla.kv.cluster.check.Op.Outcome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class HistoryTest {

  /** Each reading is one tick later than the last. */
  private final AtomicLong ticks = new AtomicLong(100);
  private final History history = new History(ticks::incrementAndGet);

  @Test
  void callTimeIsTakenAtInvokeAndReturnTimeAtCompletion() {
    var w = history.invokeWrite(1, "/k", "a");   // t=101
    var r = history.invokeRead(2, "/k");          // t=102
    r.read(null);                                 // t=103
    w.ok();                                       // t=104
    assertThat(history.ops()).containsExactly(
        new Op(0, 1, "/k", Kind.WRITE, null, "a", 101, 104, Outcome.OK, null),
        new Op(1, 2, "/k", Kind.READ, null, null, 102, 103, Outcome.OK, null));
  }

  @Test
  void eachCompletionRecordsItsOutcome() {
    history.invokeCas(1, "/k", "a", "b").fail();
    history.invokeCreate(1, "/k", "c").ok();
    history.invokeDelete(1, "/k").unknown();
    history.invokeRead(1, "/k").read("c");
    assertThat(history.ops()).extracting(Op::kind, Op::outcome, Op::observed).containsExactly(
        org.assertj.core.groups.Tuple.tuple(Kind.CAS, Outcome.FAIL, null),
        org.assertj.core.groups.Tuple.tuple(Kind.CREATE, Outcome.OK, null),
        org.assertj.core.groups.Tuple.tuple(Kind.DELETE, Outcome.UNKNOWN, null),
        org.assertj.core.groups.Tuple.tuple(Kind.READ, Outcome.OK, "c"));
    assertThat(history.ops().get(2).ret()).isEqualTo(Op.NEVER);
  }

  @Test
  void anInvocationNeverCompletedCountsAsUnknown() {
    history.invokeWrite(1, "/k", "a");
    assertThat(history.ops()).singleElement().satisfies(op -> {
      assertThat(op.outcome()).isEqualTo(Outcome.UNKNOWN);
      assertThat(op.ret()).isEqualTo(Op.NEVER);
    });
  }

  @Test
  void aDiscardedInvocationIsLeftOut() {
    history.invokeWrite(1, "/k", "a").discard();
    history.invokeWrite(1, "/k", "b").ok();
    assertThat(history.ops()).extracting(Op::value).containsExactly("b");
  }

  @Test
  void misuseIsRefusedWithTheOpNamed() {
    var w = history.invokeWrite(1, "/k", "a");
    w.ok();
    assertThatThrownBy(w::unknown).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("completed twice").hasMessageContaining("#0");
    assertThatThrownBy(() -> history.invokeRead(1, "/k").ok()).hasMessageContaining("read(value)");
    assertThatThrownBy(() -> history.invokeWrite(1, "/k", "a").fail())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot FAIL");
    assertThatThrownBy(() -> history.invokeWrite(1, "/k", null)).hasMessageContaining("value must be given");
  }

  @Test
  void savedHistoriesLoadBackIdentical(@TempDir Path dir) throws Exception {
    history.invokeWrite(1, "/k", "with \"quotes\", spaces\nand a newline").ok();
    history.invokeRead(2, "/k").read(null);
    history.invokeCas(3, "/dir/k", "ü", "").fail();
    history.invokeCreate(4, "/k", "x");                 // never completed
    Path file = dir.resolve("history.jsonl");
    history.save(file);

    assertThat(Files.readAllLines(file)).hasSize(4);
    assertThat(History.load(file)).isEqualTo(history.ops());
  }

  @Test
  void aBadLineIsReportedByNumber(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("h.jsonl");
    Files.writeString(file, "{\"id\":0,\"client\":1,\"key\":\"/k\",\"kind\":\"READ\",\"call\":1,\"ret\":2,\"outcome\":\"OK\"}\n"
        + "\n"
        + "{\"id\":1,\"client\":1,\"key\":\"/k\",\"kind\":\"WRITE\",\"call\":1,\"ret\":2,\"outcome\":\"OK\"}\n");
    assertThatThrownBy(() -> History.load(file)).hasMessageContaining("line 3 is not an op");
  }

  /**
   * Real threads against a store whose every op is one atomic step inside the invocation: the
   * recorded history must check linearizable, and so must the same history saved and loaded.
   */
  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void threadsRecordingAroundAnAtomicStoreGiveALinearizableHistory(@TempDir Path dir) throws Exception {
    History h = new History();
    Map<String, String> store = new ConcurrentHashMap<>();
    int threads = 8;
    int opsPerThread = 500;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> done = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int client = t;
      done.add(pool.submit(() -> {
        start.await();
        Random rnd = new Random(client);
        for (int i = 0; i < opsPerThread; i++) {
          atomicOp(h, store, client, rnd, client + "-" + i);
        }
        return null;
      }));
    }
    start.countDown();
    for (Future<?> f : done) {
      f.get();
    }
    pool.shutdown();

    List<Op> ops = h.ops();
    assertThat(ops).hasSize(threads * opsPerThread);
    var r = new LinearizabilityChecker().check(ops, RegisterModel.casRegister());
    assertThat(r.verdict()).as(r.report()).isEqualTo(Verdict.LINEARIZABLE);

    Path file = dir.resolve("threads.jsonl");
    h.save(file);
    assertThat(new LinearizabilityChecker().check(History.load(file), RegisterModel.casRegister())
        .verdict()).isEqualTo(Verdict.LINEARIZABLE);
  }

  private static void atomicOp(History h, Map<String, String> store, int client, Random rnd, String fresh) {
    String key = "/k" + rnd.nextInt(4);
    switch (rnd.nextInt(5)) {
      case 0 -> {
        var inv = h.invokeRead(client, key);
        inv.read(store.get(key));
      }
      case 1 -> {
        var inv = h.invokeWrite(client, key, fresh);
        store.put(key, fresh);
        inv.ok();
      }
      case 2 -> {
        String expected = Objects.requireNonNullElse(store.get(key), "none");
        var inv = h.invokeCas(client, key, expected, fresh);
        if (store.replace(key, expected, fresh)) inv.ok(); else inv.fail();
      }
      case 3 -> {
        var inv = h.invokeCreate(client, key, fresh);
        if (store.putIfAbsent(key, fresh) == null) inv.ok(); else inv.fail();
      }
      default -> {
        var inv = h.invokeDelete(client, key);
        if (store.remove(key) != null) inv.ok(); else inv.fail();
      }
    }
  }
}
