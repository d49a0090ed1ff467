package dev.flotilla.agent;

import dev.flotilla.agent.runtime.UnitRuntime;
import dev.flotilla.scheduler.registry.LoopSignal;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.store.StoreRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The thread around the agent's work: keeps the machine's presence published (a store lease of
 * {@code --agent-ttl}, kept alive by the registry's client, re-published when lost) and runs the
 * {@link AgentReconciler} at the deadlines it returns. Its watches queue events in memory and wake
 * the thread when they do, as does the runtime when it learns that units changed state
 * ({@link UnitRuntime#signalChangesTo}), so an assignment is acted on at once; with neither, the
 * thread sleeps until the reconciler's next deadline, and looks at least every {@value #POLL_MS} ms
 * (for runtimes that do not signal).
 */
public final class Agent implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Agent.class);
  static final long POLL_MS = 1_000;

  private final MachineRecord machine;
  private final long ttlSeconds;
  private final StoreRegistry registry;
  private final UnitRuntime runtime;
  private final AgentReconciler reconciler;
  /** Where the reconciler's starts run when the runtime takes them beside other calls (else null). */
  private final ExecutorService startThreads;
  private final boolean withdrawOnClose;
  private final Thread thread;
  private final LoopSignal signal = new LoopSignal();
  private volatile boolean running = true;
  private volatile boolean published;

  /**
   * @param withdrawOnClose whether a clean shutdown ends the presence at once: yes when the
   *     runtime's units end with the agent (process runtime), so the engine moves them right away;
   *     no for systemd, whose units keep running: a restarted agent adopts them, and only if none
   *     comes back within the TTL does the presence lapse and the engine move them
   */
  public Agent(MachineRecord machine, Duration ttl, StoreRegistry registry, UnitRuntime runtime,
      AgentReconciler.Config config, boolean withdrawOnClose) {
    this.withdrawOnClose = withdrawOnClose;
    this.machine = Objects.requireNonNull(machine);
    this.ttlSeconds = Math.max(2, ttl.toSeconds());
    this.registry = Objects.requireNonNull(registry);
    this.runtime = Objects.requireNonNull(runtime);
    // a runtime that can start units beside other calls gets threads for it: units assigned while a
    // start runs (0.5-1 s for 100 systemd units) go at once; each start wakes the loop when it ends
    this.startThreads = runtime.startsConcurrently() ? Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "agent-start-" + machine.id());
      t.setDaemon(true);
      return t;
    }) : null;
    this.reconciler = new AgentReconciler(machine.id(), registry, registry, registry, this::currentMetadata,
        runtime, config, startThreads == null ? Runnable::run : task -> startThreads.execute(() -> {
          try {
            task.run();
          } finally {
            wakeUp();
          }
        }));
    this.thread = new Thread(this::run, "agent-" + machine.id());
    signal.wake(thread);
    registry.signalWatchEventsTo(this::wakeUp); // before the reconciler opens its watches
    runtime.signalChangesTo(this::wakeUp);
  }

  /**
   * Makes the loop run a round now (watch events or state changes arrived), or right after the
   * current one: a round's store calls park the thread too, and must not swallow the signal.
   */
  private void wakeUp() {
    signal.signal();
  }

  public Agent start() {
    thread.start();
    return this;
  }

  public MachineRecord machine() {
    return machine;
  }

  public UnitRuntime runtime() {
    return runtime;
  }

  /** Whether the presence is published (the first publication succeeded). */
  public boolean isPublished() {
    return published;
  }

  /** The metadata the machine has in the store now (an operator may have patched it), else its own. */
  private Map<String, String> currentMetadata() {
    return registry.machine(machine.id()).map(MachineRecord::metadata).orElse(machine.metadata());
  }

  private void run() {
    long nextPublish = System.nanoTime();
    long nextRound = System.nanoTime();
    long publishEvery = TimeUnit.SECONDS.toNanos(ttlSeconds) / 3;
    while (running) {
      long now = System.nanoTime();
      signal.roundStarts();
      try {
        if (now - nextPublish >= 0) {
          if (registry.publish(machine, ttlSeconds)) {
            if (published) {
              log.warn("machine {}: presence was lost (lease expired); published again", machine.id());
            } else {
              log.info("machine {}: presence published (ttl {} s)", machine.id(), ttlSeconds);
            }
            reconciler.presenceRenewed();
          }
          published = true;
          nextPublish = now + publishEvery;
        }
        nextRound = reconciler.reconcile(now);
      } catch (RuntimeException e) {
        log.warn("machine {}: agent round failed, retrying in 1 s: {}", machine.id(), e.toString());
        nextRound = now + TimeUnit.SECONDS.toNanos(1);
        nextPublish = Math.min(nextPublish, now + TimeUnit.SECONDS.toNanos(1));
      }
      long wait = Math.min(Math.min(nextRound, nextPublish) - System.nanoTime(),
          TimeUnit.MILLISECONDS.toNanos(POLL_MS));
      if (running) {
        signal.sleep(this, wait);
      }
    }
  }

  /**
   * Leaves cleanly: stops the loop, withdraws the presence or lets it lapse (see the constructor)
   * and lets go of the runtime (systemd units keep running for the next agent to adopt; the
   * process runtime stops its children).
   */
  @Override
  public void close() {
    running = false;
    LockSupport.unpark(thread);
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (startThreads != null) {
      startThreads.shutdown(); // a start under way ends before the runtime closes
      try {
        if (!startThreads.awaitTermination(30, TimeUnit.SECONDS)) {
          log.warn("machine {}: a unit start was still running after 30 s; closing anyway", machine.id());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    reconciler.close();
    runtime.close();
    if (withdrawOnClose) {
      try {
        registry.withdraw(machine.id());
      } catch (RuntimeException e) {
        log.warn("machine {}: could not withdraw presence: {}", machine.id(), e.toString());
      }
    } else {
      registry.close(); // stops the keep-alive: the presence lapses after the TTL unless an agent returns
    }
  }
}
