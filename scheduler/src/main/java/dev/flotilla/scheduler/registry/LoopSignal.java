package dev.flotilla.scheduler.registry;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * Wakes a loop's thread when its watches queue events (the engine's, the agent's), and is not lost
 * when the signal comes while that thread is busy in a round. An {@code unpark} alone is: a round
 * that waits on a store answer ({@code CompletableFuture.join}) parks too, and that park takes the
 * permit, so the thread then slept through events that had arrived, until its next deadline (up to a
 * second; a burst of units was placed in two passes).
 *
 * <p>The loop calls {@link #roundStarts} before it polls its watches and {@link #sleep} after the
 * round; watches call {@link #signal} from any thread.
 */
public final class LoopSignal {
  private final AtomicBoolean signalled = new AtomicBoolean();
  private volatile Thread loop;

  /** The thread to wake (the loop's own, set before it starts). */
  public void wake(Thread thread) {
    loop = thread;
  }

  /** From a watch or any other thread: the loop should run a round now. Quick; never blocks. */
  public void signal() {
    signalled.set(true);
    Thread t = loop;
    if (t != null) {
      LockSupport.unpark(t);
    }
  }

  /** From the loop, before it looks at its watches: signals from now on are for this round or the next. */
  public void roundStarts() {
    signalled.set(false);
  }

  /**
   * From the loop, after a round: sleeps up to {@code nanos} unless a signal came since
   * {@link #roundStarts} (then returns at once), or until one comes.
   */
  public void sleep(Object blocker, long nanos) {
    if (nanos > 0 && !signalled.get()) {
      LockSupport.parkNanos(blocker, nanos);
    }
  }
}
