package dev.flotilla.scheduler.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/** A loop's wake-up survives the loop's thread parking elsewhere (a store answer) meanwhile. */
class LoopSignalTest {

  @Test
  void aSignalThatCameWhileTheRoundWaitedOnAFutureEndsTheNextSleepAtOnce() throws Exception {
    LoopSignal signal = new LoopSignal();
    CompletableFuture<Void> storeAnswer = new CompletableFuture<>();
    AtomicLong sleptNanos = new AtomicLong(-1);
    Thread loop = new Thread(() -> {
      signal.roundStarts();
      storeAnswer.join(); // parks: an unpark meant for the loop's sleep is taken here
      long t0 = System.nanoTime();
      signal.sleep(this, TimeUnit.SECONDS.toNanos(60));
      sleptNanos.set(System.nanoTime() - t0);
    }, "loop");
    loop.setDaemon(true);
    signal.wake(loop);
    loop.start();
    awaitParked(loop);
    signal.signal(); // a watch queued events while the round waited
    // the join wakes, sees no answer and parks again: the permit is gone (a bare unpark is lost here)
    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    awaitParked(loop);
    storeAnswer.complete(null);
    loop.join(TimeUnit.SECONDS.toMillis(10));
    assertThat(loop.isAlive()).as("the loop still asleep 10 s after a signal").isFalse();
    assertThat(sleptNanos.get()).isBetween(0L, TimeUnit.SECONDS.toNanos(10));
  }

  @Test
  void aSignalWakesASleepingLoopAndARoundStartForgetsTheOldOne() throws Exception {
    LoopSignal signal = new LoopSignal();
    AtomicLong rounds = new AtomicLong();
    Thread loop = new Thread(() -> {
      for (int i = 0; i < 2; i++) {
        signal.roundStarts();
        rounds.incrementAndGet();
        signal.sleep(this, TimeUnit.SECONDS.toNanos(60));
      }
    }, "loop");
    loop.setDaemon(true);
    signal.wake(loop);
    loop.start();
    awaitParked(loop);
    assertThat(rounds.get()).isEqualTo(1);
    signal.signal();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (rounds.get() < 2 && System.nanoTime() - deadline < 0) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
    }
    assertThat(rounds.get()).as("rounds after one signal").isEqualTo(2);
    awaitParked(loop); // the second round's sleep: the first signal was for the round it started
    assertThat(loop.isAlive()).isTrue();
    signal.signal();
    loop.join(TimeUnit.SECONDS.toMillis(10));
    assertThat(loop.isAlive()).isFalse();
  }

  /** Waits until {@code t} is parked (WAITING or TIMED_WAITING), failing after 10 s. */
  private static void awaitParked(Thread t) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(t.getName() + " did not park within 10 s: " + t.getState());
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
    }
  }
}
