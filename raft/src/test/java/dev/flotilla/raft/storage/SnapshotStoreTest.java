package dev.flotilla.raft.storage;

import static dev.flotilla.raft.storage.StorageFixtures.files;
import static dev.flotilla.raft.storage.StorageFixtures.truncate;
import static dev.flotilla.raft.storage.StorageFixtures.xorByte;
import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.raft.core.ConfState;
import dev.flotilla.raft.core.Snapshot;
import dev.flotilla.raft.testkit.LogWarnings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotStoreTest {

  @TempDir Path dir;

  private static Snapshot snap(long index, long term, int size) {
    byte[] data = new byte[size];
    for (int i = 0; i < size; i++) {
      data[i] = (byte) (index + i);
    }
    return new Snapshot(index, term, new ConfState(new TreeSet<>(Set.of(1L, 2L, 3L)), new TreeSet<>(Set.of(9L))), data);
  }

  private static void assertSame(Snapshot actual, Snapshot expected) {
    assertThat(actual.index()).isEqualTo(expected.index());
    assertThat(actual.term()).isEqualTo(expected.term());
    assertThat(actual.confState()).isEqualTo(expected.confState());
    assertThat(actual.data()).isEqualTo(expected.data());
  }

  @Test
  void savedSnapshotsReadBackWithMembershipAndDataUnderTermIndexNames() throws IOException {
    SnapshotStore store = SnapshotStore.open(dir);
    Path path = store.save(snap(0x2a, 3, 1000));
    assertThat(path.getFileName().toString()).isEqualTo("0000000000000003-000000000000002a.snap");
    store.save(snap(50, 4, 0));
    assertSame(store.loadNewest(Long.MAX_VALUE).orElseThrow(), snap(50, 4, 0));
    assertSame(store.loadNewest(49).orElseThrow(), snap(0x2a, 3, 1000));
    assertThat(store.loadNewest(41)).isEmpty();
    assertThat(files(dir, ".tmp")).isEmpty();
  }

  @Test
  void aCorruptFileIsReportedRenamedBrokenAndAnOlderValidOneLoaded() throws IOException {
    SnapshotStore store = SnapshotStore.open(dir);
    store.save(snap(10, 1, 500));
    Path newest = store.save(snap(20, 2, 500));
    xorByte(newest, 300, 0x40); // a data byte
    try (LogWarnings warnings = new LogWarnings(SnapshotStore.class)) {
      assertSame(store.loadNewest(Long.MAX_VALUE).orElseThrow(), snap(10, 1, 500));
      assertThat(warnings.lines()).singleElement().asString()
          .contains(newest.getFileName().toString())
          .contains("CRC32C of the payload")
          .contains(".broken");
    }
    assertThat(Files.exists(newest)).isFalse();
    assertThat(files(dir, ".broken")).singleElement()
        .satisfies(p -> assertThat(p.getFileName().toString()).isEqualTo(newest.getFileName() + ".broken"));
    // reported once: the broken file is no longer a candidate
    try (LogWarnings warnings = new LogWarnings(SnapshotStore.class)) {
      assertSame(store.loadNewest(Long.MAX_VALUE).orElseThrow(), snap(10, 1, 500));
      assertThat(warnings.lines()).isEmpty();
    }
  }

  @Test
  void everyKindOfDamageIsCaught() throws IOException {
    SnapshotStore store = SnapshotStore.open(dir);
    Snapshot good = snap(5, 1, 64);
    store.save(good);
    List<String> damages = List.of("truncated", "header", "magic", "length", "renamed", "extended");
    long index = 100;
    for (String damage : damages) {
      Path p = store.save(snap(index, 2, 64));
      switch (damage) {
        case "truncated" -> truncate(p, Files.size(p) - 1);
        case "header" -> truncate(p, 10);
        case "magic" -> xorByte(p, 0, 1);
        case "length" -> xorByte(p, 15, 1);
        case "renamed" -> Files.move(p, p.resolveSibling(String.format("%016x-%016x.snap", 2, index + 1)));
        case "extended" -> Files.write(p, new byte[] {0}, java.nio.file.StandardOpenOption.APPEND);
        default -> throw new AssertionError(damage);
      }
      try (LogWarnings warnings = new LogWarnings(SnapshotStore.class)) {
        assertSame(store.loadNewest(Long.MAX_VALUE).orElseThrow(), good);
        assertThat(warnings.lines()).as(damage).hasSize(1);
      }
      index += 10;
    }
    assertThat(files(dir, ".broken")).hasSize(damages.size());
  }

  @Test
  void pruneKeepsTheNewestAndLeftoverTempFilesGoAtOpen() throws IOException {
    SnapshotStore store = SnapshotStore.open(dir);
    for (long i = 1; i <= 5; i++) {
      store.save(snap(i * 10, 1, 10));
    }
    store.prune(2);
    assertThat(store.list()).extracting(SnapshotStore.SnapshotFile::index).containsExactly(50L, 40L);
    Files.write(dir.resolve("0000000000000001-000000000000003c.snap.tmp"), new byte[] {1, 2, 3});
    store = SnapshotStore.open(dir);
    assertThat(files(dir, ".tmp")).isEmpty();
    assertThat(store.list()).hasSize(2);
    store.deleteAbove(45);
    assertThat(store.list()).extracting(SnapshotStore.SnapshotFile::index).containsExactly(40L);
    Optional<Snapshot> loaded = store.loadNewest(Long.MAX_VALUE);
    assertThat(loaded).isPresent();
  }
}
