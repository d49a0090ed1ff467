package dev.flotilla.raft.wal;

import static dev.flotilla.raft.wal.WalFixtures.entries;
import static dev.flotilla.raft.wal.WalFixtures.entry;
import static dev.flotilla.raft.wal.WalFixtures.replayAll;
import static dev.flotilla.raft.wal.WalFixtures.replayFrom;
import static dev.flotilla.raft.wal.WalFixtures.segmentFiles;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WalTest {

  private static final WalOptions SMALL_SEGMENTS = WalOptions.defaults().withSegmentBytes(4096);

  @TempDir Path dir;

  @Test
  void openCreatesTheDirectoryAndAnEmptyLog() throws IOException {
    Path walDir = dir.resolve("a/b/wal");
    try (Wal wal = Wal.open(walDir, WalOptions.defaults())) {
      assertThat(Files.isDirectory(walDir)).isTrue();
      assertThat(wal.firstIndex()).isZero();
      assertThat(wal.lastIndex()).isZero();
      assertThat(wal.hardState()).isEqualTo(HardState.EMPTY);
      assertThat(wal.lastSnapshot()).isNull();
      assertThat(replayAll(wal)).isEmpty();
    }
    try (Wal wal = Wal.open(walDir, WalOptions.defaults())) {
      assertThat(wal.lastIndex()).isZero();
    }
  }

  @Test
  void roundTripAcrossSegmentRotations() throws IOException {
    List<WalEntry> written = new ArrayList<>();
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      for (long i = 1; i <= 200; i += 10) {
        List<WalEntry> batch = entries(i, i + 9, 3, 150);
        wal.append(batch);
        written.addAll(batch);
        wal.sync();
      }
      assertThat(replayAll(wal)).isEqualTo(written);
    }
    List<Path> files = segmentFiles(dir);
    assertThat(files).hasSizeGreaterThan(5);
    assertThat(files.get(0).getFileName().toString()).isEqualTo("0000000000000000-0000000000000001.wal");
    for (Path file : files.subList(0, files.size() - 1)) {
      // rotation waits for the segment to reach the limit and never splits a record
      assertThat(Files.size(file)).isBetween(4096L, 4096L + 200);
    }
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      assertThat(wal.firstIndex()).isEqualTo(1);
      assertThat(wal.lastIndex()).isEqualTo(200);
      assertThat(replayAll(wal)).isEqualTo(written);
    }
  }

  @Test
  void segmentNamesCarrySequenceAndFirstIndex() throws IOException {
    try (Wal wal = Wal.open(dir, WalOptions.defaults().withSegmentBytes(1))) {
      wal.append(entries(7, 9, 1, 10));
      wal.sync();
    }
    assertThat(segmentFiles(dir)).extracting(p -> p.getFileName().toString()).containsExactly(
        "0000000000000000-0000000000000007.wal",
        "0000000000000001-0000000000000008.wal",
        "0000000000000002-0000000000000009.wal");
  }

  @Test
  void replayFromAnIndexStreamsTheRestInOrder() throws IOException {
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      wal.append(entries(1, 300, 1, 64));
      assertThat(replayFrom(wal, 137)).isEqualTo(entries(137, 300, 1, 64));
      assertThat(replayFrom(wal, 300)).containsExactly(entry(300, 1, 64));
      assertThat(replayFrom(wal, 301)).isEmpty();
      wal.sync();
    }
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      assertThat(replayFrom(wal, 250)).isEqualTo(entries(250, 300, 1, 64));
    }
  }

  @Test
  void hardStateAndSnapshotMarkerSurviveReopenAndLastOneWins() throws IOException {
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      wal.saveHardState(new HardState(1, 2, 0));
      wal.append(entries(1, 3, 1, 10));
      wal.saveHardState(new HardState(2, 3, 3));
      wal.saveSnapshotMarker(2, 1);
      wal.sync();
    }
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      assertThat(wal.hardState()).isEqualTo(new HardState(2, 3, 3));
      assertThat(wal.lastSnapshot()).isEqualTo(new SnapshotMarker(2, 1));
      assertThat(wal.lastIndex()).isEqualTo(3);
    }
  }

  @Test
  void hardStateAloneStartsTheFirstSegment() throws IOException {
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      wal.saveHardState(new HardState(5, 1, 0));
      wal.sync();
    }
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      assertThat(wal.hardState()).isEqualTo(new HardState(5, 1, 0));
      assertThat(wal.lastIndex()).isZero();
      wal.append(entries(1, 2, 5, 10));
      wal.sync();
    }
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      assertThat(replayAll(wal)).isEqualTo(entries(1, 2, 5, 10));
    }
  }

  @Test
  void suffixOverwriteReplacesTheTailInMemoryOnDiskAndAfterReopen() throws IOException {
    List<WalEntry> expected = new ArrayList<>(entries(1, 40, 1, 200));
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      wal.append(entries(1, 60, 1, 200));
      wal.sync();
      // 60 entries of ~225 bytes span several segments; the overwrite reaches back over two of them
      wal.append(entries(41, 45, 2, 200));
      wal.sync();
      // overwrite again inside the still-buffered batch
      wal.append(entries(43, 44, 3, 200));
      expected.addAll(entries(41, 42, 2, 200));
      expected.addAll(entries(43, 44, 3, 200));
      assertThat(wal.lastIndex()).isEqualTo(44);
      assertThat(replayAll(wal)).isEqualTo(expected);
      wal.sync();
    }
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      assertThat(wal.firstIndex()).isEqualTo(1);
      assertThat(wal.lastIndex()).isEqualTo(44);
      assertThat(replayAll(wal)).isEqualTo(expected);
      assertThat(replayFrom(wal, 42)).isEqualTo(expected.subList(41, 44));
      wal.append(entries(45, 46, 3, 200));
      wal.sync();
      expected.addAll(entries(45, 46, 3, 200));
    }
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      assertThat(replayAll(wal)).isEqualTo(expected);
    }
  }

  @Test
  void overwriteFromTheFirstIndexReplacesTheWholeLog() throws IOException {
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      wal.append(entries(5, 30, 1, 100));
      wal.sync();
      wal.append(entries(5, 6, 2, 100));
      wal.sync();
    }
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      assertThat(wal.firstIndex()).isEqualTo(5);
      assertThat(replayAll(wal)).isEqualTo(entries(5, 6, 2, 100));
    }
  }

  @Test
  void aLogMayStartPastOne() throws IOException {
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      wal.append(entries(1000, 1010, 4, 32));
      wal.sync();
    }
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      assertThat(wal.firstIndex()).isEqualTo(1000);
      assertThat(wal.lastIndex()).isEqualTo(1010);
      assertThat(replayFrom(wal, 1)).isEqualTo(entries(1000, 1010, 4, 32));
    }
  }

  @Test
  void aNewerSnapshotLetsTheLogRestartPastAGap() throws IOException {
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      wal.append(entries(1, 5, 1, 32));
      wal.saveSnapshotMarker(100, 3);
      assertThatThrownBy(() -> wal.append(List.of(entry(100, 3, 1))))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("covered by the snapshot at index 100");
      wal.append(entries(101, 103, 3, 32));
      assertThat(wal.firstIndex()).isEqualTo(101);
      wal.sync();
    }
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      assertThat(wal.firstIndex()).isEqualTo(101);
      assertThat(wal.lastIndex()).isEqualTo(103);
      assertThat(replayAll(wal)).isEqualTo(entries(101, 103, 3, 32));
    }
  }

  @Test
  void rejectsBatchesThatBreakTheLogAndWritesNothingOfThem() throws IOException {
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      wal.append(entries(1, 3, 1, 8));
      assertThatThrownBy(() -> wal.append(List.of(entry(5, 1, 8))))
          .isInstanceOf(IllegalArgumentException.class).hasMessage("entry index 5 leaves a gap after last index 3");
      assertThatThrownBy(() -> wal.append(List.of(entry(4, 1, 8), entry(6, 1, 8))))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected index 5, got 6");
      wal.saveSnapshotMarker(2, 1);
      assertThatThrownBy(() -> wal.saveSnapshotMarker(1, 1))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("below the last snapshot marker's 2");
      assertThat(wal.lastIndex()).isEqualTo(3);
      assertThat(replayAll(wal)).isEqualTo(entries(1, 3, 1, 8));
    }
  }

  @Test
  void aSecondOpenOfTheSameDirectoryIsRefused() throws IOException {
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      assertThatThrownBy(() -> Wal.open(dir, SMALL_SEGMENTS))
          .isInstanceOf(IOException.class).hasMessageContaining("is already open");
    }
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      assertThat(wal.lastIndex()).isZero();
    }
  }

  @Test
  void closedWalRefusesUse() throws IOException {
    Wal wal = Wal.open(dir, SMALL_SEGMENTS);
    wal.close();
    assertThatThrownBy(() -> wal.append(List.of(entry(1, 1, 1))))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
  }

  @Test
  void closeSyncsWhatWasBuffered() throws IOException {
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      wal.append(entries(1, 10, 1, 50));
      wal.saveHardState(new HardState(1, 1, 10));
    }
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      assertThat(replayAll(wal)).isEqualTo(entries(1, 10, 1, 50));
      assertThat(wal.hardState()).isEqualTo(new HardState(1, 1, 10));
    }
  }

  @Test
  void recordsLargerThanTheWriteBufferAndTheSegment() throws IOException {
    WalOptions tiny = new WalOptions(1024, 64);
    List<WalEntry> written = List.of(entry(1, 1, 5000), entry(2, 1, 3), entry(3, 1, 70_000));
    try (Wal wal = Wal.open(dir, tiny)) {
      wal.append(written);
      wal.sync();
    }
    try (Wal wal = Wal.open(dir, tiny)) {
      assertThat(replayAll(wal)).isEqualTo(written);
    }
  }

  @Test
  void emptyDataAndFileThatIsNotASegmentIsReported() throws IOException {
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      wal.append(List.of(new WalEntry(1, 1, new byte[0])));
    }
    Files.writeString(dir.resolve("notes.wal"), "x");
    assertThatThrownBy(() -> Wal.open(dir, SMALL_SEGMENTS))
        .isInstanceOf(WalCorruptionException.class).hasMessageContaining("notes.wal").hasMessageContaining("not a segment name");
    Files.delete(dir.resolve("notes.wal"));
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      assertThat(replayAll(wal)).containsExactly(new WalEntry(1, 1, new byte[0]));
    }
  }
}
