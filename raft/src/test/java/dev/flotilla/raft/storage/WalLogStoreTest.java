package dev.flotilla.raft.storage;

import static dev.flotilla.raft.storage.StorageFixtures.all;
import static dev.flotilla.raft.storage.StorageFixtures.crashCopy;
import static dev.flotilla.raft.storage.StorageFixtures.entries;
import static dev.flotilla.raft.storage.StorageFixtures.entry;
import static dev.flotilla.raft.storage.StorageFixtures.files;
import static dev.flotilla.raft.storage.StorageFixtures.truncate;
import static dev.flotilla.raft.storage.StorageFixtures.xorByte;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flotilla.raft.core.ConfState;
import dev.flotilla.raft.core.Entry;
import dev.flotilla.raft.core.HardState;
import dev.flotilla.raft.core.RaftConfig;
import dev.flotilla.raft.core.RawNode;
import dev.flotilla.raft.core.Snapshot;
import dev.flotilla.raft.testkit.LogWarnings;
import dev.flotilla.raft.wal.WalOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WalLogStoreTest {

  private static final WalLogStore.Options SMALL =
      WalLogStore.Options.defaults().withWal(WalOptions.defaults().withSegmentBytes(4096));

  @TempDir Path tmp;

  @Test
  void restartRecoversEntriesHardStateAndOverwrites() throws IOException {
    Path dir = tmp.resolve("m");
    try (WalLogStore store = WalLogStore.open(dir, SMALL)) {
      assertThat(store.isEmpty()).isTrue();
      store.append(entries(1, 20, 1, 40));
      store.setHardState(new HardState(1, 1, 10));
      store.sync();
      // a new leader replaces 15.. with its own entries, in one Ready with the new term
      store.append(entries(15, 30, 2, 40));
      store.setHardState(new HardState(2, 3, 25));
      store.sync();
    }
    try (WalLogStore store = WalLogStore.open(dir, SMALL)) {
      assertThat(store.hardState()).isEqualTo(new HardState(2, 3, 25));
      assertThat(store.firstIndex()).isEqualTo(1);
      assertThat(store.lastIndex()).isEqualTo(30);
      assertThat(store.term(14)).isEqualTo(1);
      assertThat(store.term(15)).isEqualTo(2);
      assertThat(all(store)).isEqualTo(concat(entries(1, 14, 1, 40), entries(15, 30, 2, 40)));
      assertThat(store.entries(7, 8, 0).get(0).type()).isEqualTo(Entry.Type.CONF_CHANGE);
      assertThat(store.snapshot()).isEqualTo(Snapshot.EMPTY);
    }
  }

  @Test
  void whatWasNotSyncedIsNotRecovered() throws IOException {
    Path dir = tmp.resolve("m");
    try (WalLogStore store = WalLogStore.open(dir, WalLogStore.Options.defaults())) {
      store.append(entries(1, 10, 1, 40));
      store.setHardState(new HardState(1, 1, 5));
      store.sync();
      store.append(entries(11, 12, 1, 40));
      store.setHardState(new HardState(1, 1, 12));
      Path crashed = crashCopy(dir, tmp.resolve("crash"));
      try (WalLogStore after = WalLogStore.open(crashed, WalLogStore.Options.defaults())) {
        assertThat(after.lastIndex()).isEqualTo(10);
        assertThat(after.hardState()).isEqualTo(new HardState(1, 1, 5));
      }
    }
  }

  @Test
  void bootstrapWritesTheFoundingMembershipAndARawNodeStartsFromIt() throws IOException {
    Path dir = tmp.resolve("m");
    try (WalLogStore store = WalLogStore.open(dir, SMALL)) {
      store.bootstrap(List.of(1L, 2L, 3L));
      assertThatThrownBy(() -> store.bootstrap(List.of(1L))).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("not empty");
    }
    try (WalLogStore store = WalLogStore.open(dir, SMALL)) {
      RawNode node = new RawNode(RaftConfig.defaults(1, new Random(1)), store);
      assertThat(node.confState()).isEqualTo(ConfState.ofVoters(1, 2, 3));
      assertThat(node.status().commit()).isEqualTo(3);
    }
  }

  @Test
  void aLeadersSnapshotKillsTheContradictedSuffixAtOnce() throws IOException {
    Path dir = tmp.resolve("m");
    Snapshot leaders = new Snapshot(100, 3, ConfState.ofVoters(1, 2, 3), new byte[] {7, 7});
    try (WalLogStore store = WalLogStore.open(dir, SMALL)) {
      store.append(entries(1, 150, 1, 40));
      store.setHardState(new HardState(1, 0, 20));
      store.sync();
      store.applySnapshot(leaders);
      store.setHardState(new HardState(3, 0, 100));
      store.sync();
      // crash before the leader's next append: 101..150 of term 1 must not come back
      Path crashed = crashCopy(dir, tmp.resolve("crash1"));
      try (WalLogStore after = WalLogStore.open(crashed, SMALL)) {
        assertThat(after.snapshot().index()).isEqualTo(100);
        assertThat(after.snapshot().data()).containsExactly(7, 7);
        assertThat(after.firstIndex()).isEqualTo(101);
        assertThat(after.lastIndex()).isEqualTo(100);
        assertThat(after.hardState()).isEqualTo(new HardState(3, 0, 100));
      }
      store.append(entries(101, 110, 3, 40));
      store.sync();
    }
    try (WalLogStore store = WalLogStore.open(dir, SMALL)) {
      assertThat(store.snapshot().term()).isEqualTo(3);
      assertThat(all(store)).isEqualTo(entries(101, 110, 3, 40));
      assertThat(files(dir.resolve("wal"), ".wal")).hasSizeLessThanOrEqualTo(2);
    }
  }

  @Test
  void crashAtEveryByteOfTheLastReadyRecoversAPrefix() throws IOException {
    Path pristine = tmp.resolve("pristine");
    try (WalLogStore store = WalLogStore.open(pristine, WalLogStore.Options.defaults())) {
      store.append(entries(1, 30, 1, 50));
      store.setHardState(new HardState(1, 1, 30));
      store.sync();
    }
    Path segment = files(pristine.resolve("wal"), ".wal").get(0);
    long start = Files.size(segment);
    Entry last = entry(31, 2, 200);
    try (WalLogStore store = WalLogStore.open(pristine, WalLogStore.Options.defaults())) {
      store.append(List.of(last));
      store.setHardState(new HardState(2, 2, 31));
      store.sync();
    }
    long end = Files.size(segment);
    long entryEnd = start + 8 + 1 + 8 + 8 + 1 + 200; // frame, type, index, term, entry-type byte, data
    assertThat(end).isEqualTo(entryEnd + 8 + 1 + 24);
    for (long cut = start; cut <= end; cut++) {
      Path copy = crashCopy(pristine, tmp.resolve("cut-" + cut));
      truncate(copy.resolve("wal").resolve(segment.getFileName()), cut);
      try (WalLogStore store = WalLogStore.open(copy, WalLogStore.Options.defaults())) {
        boolean hasEntry = cut >= entryEnd;
        boolean hasHardState = cut == end;
        assertThat(store.lastIndex()).as("cut at %d", cut).isEqualTo(hasEntry ? 31 : 30);
        assertThat(all(store)).as("cut at %d", cut)
            .isEqualTo(hasEntry ? concat(entries(1, 30, 1, 50), List.of(last)) : entries(1, 30, 1, 50));
        assertThat(store.hardState()).as("cut at %d", cut)
            .isEqualTo(hasHardState ? new HardState(2, 2, 31) : new HardState(1, 1, 30));
        // and the store carries on writing after the cut
        store.append(List.of(entry(store.lastIndex() + 1, 2, 10)));
        store.sync();
      }
      try (WalLogStore store = WalLogStore.open(copy, WalLogStore.Options.defaults())) {
        assertThat(store.lastIndex()).isEqualTo(cut >= entryEnd ? 32 : 31);
      }
    }
  }

  @Test
  void compactionReleasesSegmentsBehindTheOldestRetainedSnapshotAndPrunesFiles() throws IOException {
    Path dir = tmp.resolve("m");
    WalLogStore.Options options = SMALL.withRetainSnapshots(2);
    try (WalLogStore store = WalLogStore.open(dir, options)) {
      for (long i = 1; i <= 500; i += 50) {
        store.append(entries(i, i + 49, 1, 60));
        store.setHardState(new HardState(1, 1, i + 49));
        store.sync();
        if (i > 1) {
          store.createSnapshot(i - 1, ConfState.ofVoters(1), ("state@" + (i - 1)).getBytes());
          store.compact(i - 11);
        }
      }
      assertThat(store.snapshot().index()).isEqualTo(450);
      assertThat(store.firstIndex()).isEqualTo(441);
      assertThat(files(dir.resolve("snap"), ".snap")).hasSize(2);
      List<Path> segments = files(dir.resolve("wal"), ".wal");
      // 500 entries of ~90 bytes in 4 KiB segments is 12+ segments; the log after 400 needs about 3
      assertThat(segments.size()).isBetween(2, 6);
    }
    try (WalLogStore store = WalLogStore.open(dir, options)) {
      assertThat(store.snapshot().index()).isEqualTo(450);
      assertThat(new String(store.snapshot().data())).isEqualTo("state@450");
      assertThat(store.firstIndex()).isEqualTo(451);
      assertThat(all(store)).isEqualTo(entries(451, 500, 1, 60));
    }
  }

  @Test
  void aCorruptNewestSnapshotIsSkippedForTheOlderOneAndTheLogAfterIt() throws IOException {
    Path dir = tmp.resolve("m");
    try (WalLogStore store = WalLogStore.open(dir, SMALL)) {
      store.append(entries(1, 300, 1, 60));
      store.setHardState(new HardState(1, 1, 300));
      store.sync();
      store.createSnapshot(100, ConfState.ofVoters(1, 2), "state@100".getBytes());
      store.compact(100);
      store.createSnapshot(250, ConfState.ofVoters(1, 2), "state@250".getBytes());
      store.compact(250);
    }
    Path newest = files(dir.resolve("snap"), ".snap").get(1);
    assertThat(newest.getFileName().toString()).endsWith("00fa.snap");
    xorByte(newest, Files.size(newest) - 2, 0xff);
    try (LogWarnings snapWarnings = new LogWarnings(SnapshotStore.class);
         LogWarnings storeWarnings = new LogWarnings(WalLogStore.class);
         WalLogStore store = WalLogStore.open(dir, SMALL)) {
      assertThat(snapWarnings.lines()).singleElement().asString().contains(newest.getFileName().toString())
          .contains("corrupt");
      assertThat(storeWarnings.lines()).singleElement().asString().contains("index 250").contains("at 100");
      assertThat(store.snapshot().index()).isEqualTo(100);
      assertThat(new String(store.snapshot().data())).isEqualTo("state@100");
      assertThat(all(store)).isEqualTo(entries(101, 300, 1, 60));
      assertThat(store.hardState()).isEqualTo(new HardState(1, 1, 300));
      // the application re-snapshots; the WAL's marker is already past 200, the file suffices
      store.createSnapshot(200, ConfState.ofVoters(1, 2), "state@200".getBytes());
    }
    try (WalLogStore store = WalLogStore.open(dir, SMALL)) {
      assertThat(new String(store.snapshot().data())).isEqualTo("state@200");
      assertThat(all(store)).isEqualTo(entries(201, 300, 1, 60));
    }
  }

  @Test
  void withNoUsableSnapshotAndTheLogCompactedTheOpenFailsSayingWhatToDo() throws IOException {
    Path dir = tmp.resolve("m");
    try (WalLogStore store = WalLogStore.open(dir, SMALL.withRetainSnapshots(1))) {
      store.append(entries(1, 300, 1, 60));
      store.setHardState(new HardState(1, 1, 300));
      store.sync();
      store.createSnapshot(250, ConfState.ofVoters(1), "s".getBytes());
      store.compact(250);
    }
    xorByte(files(dir.resolve("snap"), ".snap").get(0), 30, 1);
    assertThatThrownBy(() -> WalLogStore.open(dir, SMALL))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("recovery needs them from 1")
        .hasMessageContaining("the newer snapshot at 250 is unreadable")
        .hasMessageContaining("wipe the member and let it rejoin");
  }

  @Test
  void aSnapshotFileWhoseMarkerNeverReachedTheWalIsDropped() throws IOException {
    Path dir = tmp.resolve("m");
    try (WalLogStore store = WalLogStore.open(dir, SMALL)) {
      store.append(entries(1, 50, 1, 60));
      store.setHardState(new HardState(1, 1, 50));
      store.sync();
      store.createSnapshot(20, ConfState.ofVoters(1), "s20".getBytes());
    }
    // as if a crash came between writing a leader's snapshot file and syncing its WAL marker
    SnapshotStore.open(dir.resolve("snap")).save(new Snapshot(90, 2, ConfState.ofVoters(1), "s90".getBytes()));
    try (WalLogStore store = WalLogStore.open(dir, SMALL)) {
      assertThat(store.snapshot().index()).isEqualTo(20);
      assertThat(all(store)).isEqualTo(entries(21, 50, 1, 60));
    }
    assertThat(files(dir.resolve("snap"), ".snap")).hasSize(1);
  }

  static <T> List<T> concat(List<T> a, List<T> b) {
    List<T> out = new java.util.ArrayList<>(a);
    out.addAll(b);
    return out;
  }
}
