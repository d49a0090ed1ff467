package dev.flotilla.scheduler.engine;

import dev.flotilla.scheduler.registry.LoopSignal;
import java.util.Objects;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The thread around an {@link Engine}: calls {@link Engine#reconcile} at the deadline it returns,
 * or sooner when woken ({@link #wakeUp}: fleetd has the engine's registry watch call it when
 * events arrive, {@code StoreRegistry.signalWatchEventsTo}), and at least every
 * {@code maxIdleNanos} (for watches that do not signal, such as the in-memory registry's).
 */
public final class EngineRunner implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EngineRunner.class);

  private final Engine engine;
  private final LongSupplier clock;
  private final long maxIdleNanos;
  private final Thread thread;
  private final LoopSignal signal = new LoopSignal();
  private volatile boolean running = true;

  public EngineRunner(Engine engine, LongSupplier clock, long maxIdleNanos) {
    this.engine = Objects.requireNonNull(engine);
    this.clock = Objects.requireNonNull(clock);
    this.maxIdleNanos = maxIdleNanos;
    this.thread = new Thread(this::run, "engine-" + engine.id());
    this.thread.setDaemon(true);
    signal.wake(thread);
  }

  public EngineRunner start() {
    thread.start();
    return this;
  }

  /** Runs a round now, or right after the current one (a round's store calls do not swallow it). */
  public void wakeUp() {
    signal.signal();
  }

  private void run() {
    try {
      loop();
    } finally {
      engine.close(); // on this thread: the engine is only ever touched by it
    }
  }

  private void loop() {
    while (running) {
      long now = clock.getAsLong();
      long next;
      signal.roundStarts();
      try {
        next = engine.reconcile(now);
      } catch (RuntimeException e) {
        log.warn("engine {}: round failed, retrying: {}", engine.id(), e.toString());
        next = now + maxIdleNanos;
      }
      long wait = Math.min(next - now, maxIdleNanos);
      if (running) {
        signal.sleep(this, wait);
      }
    }
  }

  /**
   * Stops the thread after its current round (a full pass over a large registry can take seconds)
   * and lets it give the lease up; waits for that.
   */
  @Override
  public void close() {
    running = false;
    if (thread.getState() == Thread.State.NEW) {
      engine.close(); // never started
      return;
    }
    LockSupport.unpark(thread);
    try {
      thread.join(60_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (thread.isAlive()) {
      log.warn("engine {}: its thread did not stop within 60 s; the lease is left to expire", engine.id());
    }
  }
}
