package dev.flotilla.agent.runtime.systemd;

import java.time.Duration;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Polls a probe until its value satisfies a condition, with a deadline (no sleeps standing in for "long enough"). */
public final class Await {
  private Await() {}

  /** The first value of {@code probe} that {@code done} accepts; fails naming the last value seen. */
  public static <T> T until(Duration timeout, String what, Supplier<T> probe, Predicate<? super T> done) {
    long deadline = System.nanoTime() + timeout.toNanos();
    T last = probe.get();
    while (!done.test(last)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what + "; last saw: " + last);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what);
      }
      last = probe.get();
    }
    return last;
  }
}
