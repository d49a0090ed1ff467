package dev.flotilla.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.kv.client.StoreClient;
import dev.flotilla.kv.client.StoreTargets;
import dev.flotilla.kv.client.StoreTargets.Kind;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The engine lease over a real store (kvd in process, and etcd 3.4 over jetcd): one holder at a
 * time; the holder renews under the same epoch; a clean release hands over at once; a holder that
 * dies (its client gone, so nobody keeps its lease alive) is replaced within one TTL, under a
 * higher epoch.
 */
class StoreEngineLeaseTest {
  private static final AtomicInteger KEYS = new AtomicInteger();
  private static StoreTargets targets;

  @BeforeAll
  static void start() {
    targets = new StoreTargets();
  }

  @AfterAll
  static void stop() {
    targets.close();
  }

  @ParameterizedTest
  @EnumSource(value = Kind.class, names = {"IN_PROCESS_KVD", "ETCD_OVER_JETCD"})
  void oneHolderAtATimeAndATakeoverWithinOneTtl(Kind kind) throws Exception {
    String key = "/lease-test-" + KEYS.incrementAndGet() + "/engine/leader";
    StoreClient aClient = targets.client(kind);
    StoreClient bClient = targets.client(kind);
    StoreEngineLease a = new StoreEngineLease(aClient, key, 2);
    StoreEngineLease b = new StoreEngineLease(bClient, key, 2);

    EngineLease.LeaseStatus first = a.tryAcquire("a", System.nanoTime());
    assertThat(first.holder()).isEqualTo("a");
    EngineLease.LeaseStatus seenByB = b.tryAcquire("b", System.nanoTime());
    assertThat(seenByB.holder()).isEqualTo("a");
    assertThat(seenByB.epoch()).isEqualTo(first.epoch());
    assertThat(seenByB.expiresAtNanos()).isGreaterThan(System.nanoTime());
    Thread.sleep(2500); // past one TTL: only the keep-alive keeps a's lease
    assertThat(a.tryAcquire("a", System.nanoTime())).satisfies(s -> {
      assertThat(s.holder()).isEqualTo("a");
      assertThat(s.epoch()).isEqualTo(first.epoch());
    });
    assertThat(b.tryAcquire("b", System.nanoTime()).holder()).isEqualTo("a");

    // a clean release: b takes over at once, under a new epoch
    a.release("a");
    EngineLease.LeaseStatus second = b.tryAcquire("b", System.nanoTime());
    assertThat(second.holder()).isEqualTo("b");
    assertThat(second.epoch()).isGreaterThan(first.epoch());

    // b dies: its client closes, nobody renews; a takes over within one TTL (plus the store's tick)
    bClient.close();
    long died = System.nanoTime();
    EngineLease.LeaseStatus third;
    do {
      Thread.sleep(100);
      third = a.tryAcquire("a", System.nanoTime());
    } while (!third.heldBy("a") && System.nanoTime() - died < 10_000_000_000L);
    assertThat(third.holder()).as("a took over").isEqualTo("a");
    assertThat(third.epoch()).isGreaterThan(second.epoch());
    assertThat((System.nanoTime() - died) / 1_000_000).as("ms until the takeover").isLessThan(2 * 2000 + 1000);
  }
}
