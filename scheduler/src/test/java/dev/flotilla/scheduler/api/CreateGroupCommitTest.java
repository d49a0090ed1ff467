package dev.flotilla.scheduler.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flotilla.kv.client.StoreClient;
import dev.flotilla.kv.client.StoreException;
import dev.flotilla.kv.client.StoreTargets;
import dev.flotilla.scheduler.registry.DesiredState;
import dev.flotilla.scheduler.registry.UnitRecord;
import dev.flotilla.scheduler.registry.UnitRegistry;
import dev.flotilla.scheduler.registry.Versioned;
import dev.flotilla.scheduler.registry.store.StoreRegistry;
import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitName;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Group commit of the API's unit creations against kvd in this JVM: creations that arrive while
 * a batch is in flight go together as the next one, and each caller is answered only once its
 * own unit is in the store.
 */
class CreateGroupCommitTest {
  private static final AtomicInteger PREFIXES = new AtomicInteger();
  @RegisterExtension
  static final StoreTargets targets = new StoreTargets();
  private final ExecutorService pool = Executors.newCachedThreadPool();

  @AfterEach
  void shutdown() {
    pool.shutdownNow();
  }

  /**
   * The store registry, with each createAll call recorded; the first one holds until {@code hold}
   * opens, so that the other callers queue up behind it.
   */
  private static final class Recording implements UnitRegistry {
    final StoreRegistry store;
    final List<List<String>> batches = Collections.synchronizedList(new ArrayList<>());
    final CountDownLatch hold = new CountDownLatch(1);
    /** The createAll call (1-based) that fails as the store would, with this failure. */
    volatile int failCall;
    volatile Throwable failure;

    Recording(StoreClient client) {
      store = new StoreRegistry(client, "/group-commit-" + PREFIXES.incrementAndGet() + "/");
    }

    @Override
    public List<Boolean> createAll(List<UnitRecord> units) {
      batches.add(units.stream().map(u -> u.name().name()).toList());
      if (batches.size() == 1) {
        try {
          assertThat(hold.await(20, TimeUnit.SECONDS)).as("the test opened the first batch").isTrue();
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
      }
      if (batches.size() == failCall) {
        if (failure instanceof Error e) {
          throw e;
        }
        throw (RuntimeException) failure;
      }
      return store.createAll(units);
    }

    @Override
    public Optional<Versioned<UnitRecord>> unit(String name) {
      return store.unit(name);
    }

    @Override
    public List<Versioned<UnitRecord>> units() {
      return store.units();
    }

    @Override
    public boolean create(UnitRecord unit) {
      throw new AssertionError("the group commit creates through createAll only");
    }

    @Override
    public boolean setDesiredState(String name, DesiredState state, long expectedModRevision) {
      return store.setDesiredState(name, state, expectedModRevision);
    }

    @Override
    public boolean destroy(String name) {
      return store.destroy(name);
    }
  }

  private static UnitRecord unit(String name) {
    return new UnitRecord(UnitName.parse(name),
        UnitFile.parse("[Service]\nExecStart=/bin/sleep 1000\n"), DesiredState.LAUNCHED);
  }

  private static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 20 s: " + what);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
  }

  /** Starts a caller of {@code commit.create(unit(name))} that, once answered, reads its unit back. */
  private Future<String> caller(CreateGroupCommit commit, Recording registry, String name) {
    return pool.submit(() -> {
      boolean created = commit.create(unit(name));
      // answered: if created, the unit must be in the store already (committed, not merely queued)
      boolean there = registry.store.unit(name).isPresent();
      return created + "/" + there;
    });
  }

  /**
   * With the first batch in flight (held), queues b.service and c.service behind it, makes their
   * batch (the second createAll call) fail with {@code failure}, and lets the first one go.
   */
  private List<Future<String>> secondBatchFails(CreateGroupCommit commit, Recording registry, Throwable failure) {
    await(() -> registry.batches.size() == 1, "the first batch in flight");
    Future<String> b = caller(commit, registry, "b.service");
    Future<String> c = caller(commit, registry, "c.service");
    await(() -> commit.queued() == 2, "two queued");
    registry.failure = failure;
    registry.failCall = 2; // the batch of b and c
    registry.hold.countDown();
    return List.of(b, c);
  }

  @Test
  void creationsArrivingWhileABatchIsInFlightGoTogetherAndAreAnsweredOnceStored() throws Exception {
    Recording registry = new Recording(targets.client(StoreTargets.Kind.IN_PROCESS_KVD));
    CreateGroupCommit commit = new CreateGroupCommit(registry);
    Future<String> first = caller(commit, registry, "web@0.service");
    await(() -> registry.batches.size() == 1, "the first batch in flight");
    List<Future<String>> rest = new ArrayList<>();
    for (int i = 1; i <= 15; i++) {
      rest.add(caller(commit, registry, "web@" + i + ".service"));
    }
    // the 15 are queued behind the first batch, none answered while it is held
    await(() -> commit.queued() == 15, "15 creations queued");
    assertThat(rest).noneMatch(Future::isDone);
    assertThat(first.isDone()).isFalse();
    registry.hold.countDown();

    assertThat(first.get(20, TimeUnit.SECONDS)).isEqualTo("true/true");
    for (Future<String> f : rest) {
      assertThat(f.get(20, TimeUnit.SECONDS)).isEqualTo("true/true");
    }
    assertThat(registry.batches).hasSize(2);
    assertThat(registry.batches.get(0)).containsExactly("web@0.service");
    assertThat(registry.batches.get(1)).hasSize(15);
    assertThat(registry.store.units()).hasSize(16);
    assertThat(commit.counts()).containsExactly(2, 16);
  }

  @Test
  void twoCreationsOfOneNameNeverShareATxnAndTheSecondFindsTheNameTaken() throws Exception {
    Recording registry = new Recording(targets.client(StoreTargets.Kind.IN_PROCESS_KVD));
    CreateGroupCommit commit = new CreateGroupCommit(registry);
    Future<String> first = caller(commit, registry, "lead.service");
    await(() -> registry.batches.size() == 1, "the first batch in flight");
    Future<String> a = caller(commit, registry, "dup.service");
    await(() -> commit.queued() == 1, "one queued");
    Future<String> b = caller(commit, registry, "dup.service");
    Future<String> c = caller(commit, registry, "other.service");
    await(() -> commit.queued() == 3, "three queued");
    registry.hold.countDown();

    assertThat(first.get(20, TimeUnit.SECONDS)).isEqualTo("true/true");
    List<String> dupOutcomes = List.of(a.get(20, TimeUnit.SECONDS), b.get(20, TimeUnit.SECONDS));
    assertThat(dupOutcomes).containsExactlyInAnyOrder("true/true", "false/true");
    assertThat(c.get(20, TimeUnit.SECONDS)).isEqualTo("true/true");
    for (List<String> batch : registry.batches) {
      assertThat(batch).doesNotHaveDuplicates();
    }
    assertThat(registry.batches).hasSize(3); // lead; dup + other; the second dup
  }

  @Test
  void aStoreFailureReachesEveryCallerOfTheBatchAndTheNextBatchStillGoes() throws Exception {
    Recording registry = new Recording(targets.client(StoreTargets.Kind.IN_PROCESS_KVD));
    CreateGroupCommit commit = new CreateGroupCommit(registry);
    Future<String> first = caller(commit, registry, "a.service");
    List<Future<String>> failing = secondBatchFails(commit, registry, new StoreException(StoreException.Code.UNAVAILABLE, "no leader"));
    Future<String> b = failing.get(0);
    Future<String> c = failing.get(1);

    assertThat(first.get(20, TimeUnit.SECONDS)).isEqualTo("true/true");
    for (Future<String> f : List.of(b, c)) {
      assertThatThrownBy(() -> f.get(20, TimeUnit.SECONDS)).hasRootCauseMessage("no leader");
    }
    assertThat(registry.batches).hasSize(2);
    assertThat(registry.batches.get(1)).containsExactlyInAnyOrder("b.service", "c.service");
    assertThat(registry.store.unit("b.service")).isEmpty();
    assertThat(commit.create(unit("b.service"))).as("created after the failure, in a batch of its own").isTrue();
    assertThat(registry.batches).hasSize(3);
  }

  @Test
  void anErrorInTheStoreCallFailsTheBatchAndLeavesNoFlagThatWedgesLaterCreations() throws Exception {
    Recording registry = new Recording(targets.client(StoreTargets.Kind.IN_PROCESS_KVD));
    CreateGroupCommit commit = new CreateGroupCommit(registry);
    Future<String> first = caller(commit, registry, "a.service");
    List<Future<String>> failing = secondBatchFails(commit, registry, new AssertionError("an Error, not an exception, out of the store call"));
    Future<String> b = failing.get(0);
    Future<String> c = failing.get(1);

    assertThat(first.get(20, TimeUnit.SECONDS)).isEqualTo("true/true");
    // the caller that sent the batch gets the Error, the other one a failure that says so
    List<String> outcomes = new ArrayList<>();
    for (Future<String> f : List.of(b, c)) {
      assertThatThrownBy(() -> f.get(20, TimeUnit.SECONDS)).isInstanceOf(java.util.concurrent.ExecutionException.class)
          .satisfies(e -> outcomes.add(e.getCause().getClass().getSimpleName()));
    }
    assertThat(outcomes).containsExactlyInAnyOrder("AssertionError", "IllegalStateException");
    // not wedged: the next creation goes in a batch of its own
    Future<String> again = caller(commit, registry, "b.service");
    assertThat(again.get(20, TimeUnit.SECONDS)).isEqualTo("true/true");
    assertThat(registry.batches).hasSize(3);
    assertThat(commit.queued()).isZero();
  }
}
