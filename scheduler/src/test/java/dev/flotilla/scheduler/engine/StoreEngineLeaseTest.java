package dev.flotilla.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.kv.client.InterceptedStoreClient;
import dev.flotilla.kv.client.StoreClient;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import dev.flotilla.kv.client.StoreTargets;
import dev.flotilla.kv.client.StoreTargets.Kind;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
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
  @RegisterExtension
  static final StoreTargets targets = new StoreTargets();

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

  /**
   * A candidate that found the lease held watches the leader key: a renewal is no change, a
   * release is, and it is told at once (so it needs to poll neither every safety pass nor at all
   * before the holder's expiry).
   */
  @ParameterizedTest
  @EnumSource(value = Kind.class, names = {"IN_PROCESS_KVD", "ETCD_OVER_JETCD"})
  void aWaitingCandidateIsToldWhenTheHolderLetsGo(Kind kind) throws Exception {
    String key = "/lease-test-" + KEYS.incrementAndGet() + "/engine/leader";
    StoreEngineLease a = new StoreEngineLease(targets.client(kind), key, 30);
    StoreEngineLease b = new StoreEngineLease(targets.client(kind), key, 30);
    CountDownLatch signalled = new CountDownLatch(1);
    b.signalChangesTo(signalled::countDown);
    try {
      assertThat(a.tryAcquire("a", System.nanoTime()).holder()).isEqualTo("a");
      assertThat(b.tryAcquire("b", System.nanoTime()).holder()).isEqualTo("a");
      assertThat(b.watchesHolder()).isTrue();
      a.tryAcquire("a", System.nanoTime()); // a renewal
      Thread.sleep(300);
      assertThat(b.holderMayHaveChanged()).as("a renewal is no change").isFalse();

      a.release("a");
      assertThat(signalled.await(10, TimeUnit.SECONDS)).as("b was signalled").isTrue();
      assertThat(b.holderMayHaveChanged()).isTrue();
      assertThat(b.tryAcquire("b", System.nanoTime()).holder()).isEqualTo("b");
    } finally {
      b.release("b");
    }
  }

  /**
   * An engine that follows makes no store request between its tries while the holder stays, and
   * takes over at its first round after the holder let go, long before the holder's expiry.
   */
  @Test
  void aFollowingEngineWaitsWithoutRequestsAndTakesOverOnRelease() throws Exception {
    String key = "/lease-test-" + KEYS.incrementAndGet() + "/engine/leader";
    StoreClient client = targets.client(Kind.IN_PROCESS_KVD);
    java.util.concurrent.atomic.AtomicLong requests = new java.util.concurrent.atomic.AtomicLong();
    StoreEngineLease leaseA = new StoreEngineLease(client, key, 30);
    StoreEngineLease leaseB = new StoreEngineLease(
        InterceptedStoreClient.of(client, (method, args, proceed) -> {
          requests.incrementAndGet(); // the watch too: opening it is one
          return proceed.call();
        }), key, 30);
    dev.flotilla.scheduler.registry.memory.MemoryRegistry registry = new dev.flotilla.scheduler.registry.memory.MemoryRegistry(System::nanoTime);
    Engine.Config config = new Engine.Config(TimeUnit.SECONDS.toNanos(2), 10_000);
    Engine a = new Engine("a", new EngineRegistry(registry, registry, registry, registry::watch), leaseA, config);
    Engine b = new Engine("b", new EngineRegistry(registry, registry, registry, registry::watch), leaseB, config);
    try {
      long t0 = System.nanoTime();
      a.reconcile(t0);
      assertThat(a.isLeader()).isTrue();
      b.reconcile(t0);
      assertThat(b.isLeader()).isFalse();
      long before = requests.get();
      for (int s = 2; s <= 20; s += 2) { // every safety pass interval, well inside a's 30 s
        b.reconcile(t0 + TimeUnit.SECONDS.toNanos(s));
      }
      assertThat(requests.get() - before).as("store requests of the waiting follower").isZero();
      assertThat(b.isLeader()).isFalse();

      a.close(); // a clean shutdown releases the lease
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!leaseB.holderMayHaveChanged() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      b.reconcile(t0 + TimeUnit.SECONDS.toNanos(21));
      assertThat(b.isLeader()).as("b leads at its first round after the release").isTrue();
    } finally {
      b.close();
    }
  }
}
