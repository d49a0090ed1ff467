package dev.flotilla.kv.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.kv.mvcc.MvccStore;
import dev.flotilla.raft.core.Entry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Linearizable reads wait in the applier for their read index to be applied. Readers arriving for
 * the index being applied at that very moment must all be released: one that added itself to a
 * list the apply thread had just taken out was once left waiting until its client's timeout.
 */
class ApplierReadersTest {
  @TempDir Path tmp;

  @Test
  void everyReaderIsReleasedWhileEntriesAreApplied() throws Exception {
    int entries = 5_000;
    try (MvccStore store = MvccStore.open(tmp)) {
      StoreStateMachine machine = new StoreStateMachine(store);
      ReplicatedLog.Applier applier = new ReplicatedLog.Applier(machine, new StoreMetrics(), id -> { });
      AtomicLong next = new AtomicLong(1);
      AtomicBoolean done = new AtomicBoolean();
      ConcurrentLinkedQueue<CompletableFuture<Void>> reads = new ConcurrentLinkedQueue<>();
      List<Thread> readers = new ArrayList<>();
      for (int r = 0; r < 3; r++) {
        Thread t = new Thread(() -> {
          while (!done.get()) {
            CompletableFuture<Void> f = applier.awaitApplied(next.get());
            if (!f.isDone()) {
              reads.add(f);
            }
          }
        });
        t.start();
        readers.add(t);
      }
      for (long i = 1; i <= entries; i++) {
        next.set(i);
        applier.applyAll(List.of(Entry.normal(i, 1, new byte[0])));
        while (machine.appliedIndex() < i) {
          Thread.onSpinWait();
        }
      }
      done.set(true);
      for (Thread t : readers) {
        t.join();
      }
      try {
        CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        // counted below
      }
      long stuck = reads.stream().filter(f -> !f.isDone()).count();
      assertThat(stuck).as("reads never released, of %d", reads.size()).isZero();
      applier.close();
    }
  }
}
