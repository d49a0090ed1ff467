package dev.flotilla.raft.wal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Random sequences of appends, suffix overwrites, hard-state saves, syncs, reopens and releases,
 * checked after every step against a plain in-memory list.
 */
class WalModelPropertyTest {

  enum Kind { APPEND, HARD_STATE, SYNC, REOPEN, RELEASE }

  /** One step; its numbers are turned into valid arguments against the state at that point. */
  record Step(Kind kind, int a, int b, int c) {}

  @Provide
  Arbitrary<Step> steps() {
    return Combinators.combine(
        Arbitraries.frequency(
            Tuple.of(6, Kind.APPEND), Tuple.of(2, Kind.HARD_STATE),
            Tuple.of(3, Kind.SYNC), Tuple.of(1, Kind.REOPEN),
            Tuple.of(1, Kind.RELEASE)),
        Arbitraries.integers().between(0, 1_000_000),
        Arbitraries.integers().between(0, 1_000_000),
        Arbitraries.integers().between(0, 1_000_000)).as(Step::new);
  }

  @Property(tries = 150)
  void walBehavesLikeAList(
      @ForAll @Size(max = 60) List<@From("steps") Step> steps,
      @ForAll @IntRange(min = 64, max = 4096) int segmentBytes,
      @ForAll @IntRange(min = 1, max = 50) int firstIndex) throws IOException {
    Path dir = Files.createTempDirectory("wal-model");
    WalOptions options = new WalOptions(segmentBytes, 256);
    List<WalEntry> model = new ArrayList<>();
    HardState hardState = HardState.EMPTY;
    long term = 1;
    Wal wal = Wal.open(dir, options);
    try {
      for (Step step : steps) {
        switch (step.kind()) {
          case APPEND -> {
            long start = model.isEmpty()
                ? firstIndex
                : model.get(0).index() + step.a() % (model.size() + 1);
            term++;
            List<WalEntry> batch = WalFixtures.entries(start, start + step.b() % 6, term, step.c() % 300);
            wal.append(batch);
            model.removeIf(e -> e.index() >= start);
            model.addAll(batch);
          }
          case HARD_STATE -> {
            hardState = new HardState(term, step.a() % 3, model.isEmpty() ? 0 : model.get(0).index());
            wal.saveHardState(hardState);
          }
          case SYNC -> wal.sync();
          case REOPEN -> {
            wal.close();
            wal = Wal.open(dir, options);
          }
          case RELEASE -> {
            long index = model.isEmpty() ? step.a() % 10 : model.get(0).index() + step.a() % (model.size() + 1);
            long before = wal.firstIndex();
            wal.releaseBefore(index);
            if (!model.isEmpty()) {
              assertThat(wal.firstIndex()).isGreaterThanOrEqualTo(before)
                  .isLessThanOrEqualTo(Math.max(before, Math.min(index, model.get(model.size() - 1).index())));
            }
            long first = wal.firstIndex();
            model.removeIf(e -> e.index() < first);
          }
        }
        assertThat(wal.firstIndex()).as("after %s", step).isEqualTo(model.isEmpty() ? 0 : model.get(0).index());
        assertThat(wal.lastIndex()).as("after %s", step)
            .isEqualTo(model.isEmpty() ? 0 : model.get(model.size() - 1).index());
        assertThat(wal.hardState()).isEqualTo(hardState);
        assertThat(WalFixtures.replayAll(wal)).as("after %s", step).isEqualTo(model);
      }
      wal.close();
      wal = Wal.open(dir, options);
      assertThat(WalFixtures.replayAll(wal)).isEqualTo(model);
      assertThat(wal.hardState()).isEqualTo(hardState);
    } finally {
      wal.close();
      deleteTree(dir);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    }
  }
}
