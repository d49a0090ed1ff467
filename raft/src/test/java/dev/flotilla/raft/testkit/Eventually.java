package dev.flotilla.raft.testkit;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Polls a condition with a deadline (no fixed sleeps standing in for "long enough"). */
public final class Eventually {

  private Eventually() {}

  public static void await(Duration timeout, String what, BooleanSupplier condition) {
    awaitDescribed(timeout, what, condition, () -> "");
  }

  /** As {@link #await}, adding {@code state} to the failure message. */
  public static void awaitDescribed(Duration timeout, String what, BooleanSupplier condition, Supplier<String> state) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what + " " + state.get());
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what);
      }
    }
  }
}
