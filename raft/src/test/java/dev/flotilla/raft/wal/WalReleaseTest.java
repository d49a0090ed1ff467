package dev.flotilla.raft.wal;

import static dev.flotilla.raft.wal.WalFixtures.entries;
import static dev.flotilla.raft.wal.WalFixtures.entry;
import static dev.flotilla.raft.wal.WalFixtures.replayAll;
import static dev.flotilla.raft.wal.WalFixtures.replayFrom;
import static dev.flotilla.raft.wal.WalFixtures.segmentFiles;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WalReleaseTest {

  private static final WalOptions SMALL_SEGMENTS = WalOptions.defaults().withSegmentBytes(4096);

  @TempDir Path dir;

  @Test
  void releaseDeletesWholeSegmentsBelowTheIndexOnly() throws IOException {
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      wal.append(entries(1, 200, 1, 100));
      wal.sync();
      int before = segmentFiles(dir).size();

      wal.releaseBefore(1);
      assertThat(segmentFiles(dir)).hasSize(before);

      wal.releaseBefore(100);
      assertThat(wal.firstIndex()).isGreaterThan(1).isLessThanOrEqualTo(100);
      assertThat(segmentFiles(dir)).hasSizeLessThan(before);
      assertThat(wal.lastIndex()).isEqualTo(200);
      assertThat(replayAll(wal)).isEqualTo(entries(wal.firstIndex(), 200, 1, 100));
      assertThat(replayFrom(wal, 100)).isEqualTo(entries(100, 200, 1, 100));
    }
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      assertThat(wal.firstIndex()).isGreaterThan(1).isLessThanOrEqualTo(100);
      assertThat(replayAll(wal)).isEqualTo(entries(wal.firstIndex(), 200, 1, 100));
    }
  }

  @Test
  void releaseNeverDeletesTheCurrentSegment() throws IOException {
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      wal.append(entries(1, 200, 1, 100));
      wal.releaseBefore(1_000);
      List<Path> left = segmentFiles(dir);
      assertThat(left).hasSize(1);
      assertThat(wal.lastIndex()).isEqualTo(200);
      assertThat(replayAll(wal)).isEqualTo(entries(wal.firstIndex(), 200, 1, 100));
      wal.append(entries(201, 205, 1, 100));
    }
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      assertThat(wal.lastIndex()).isEqualTo(205);
      assertThat(replayAll(wal)).isEqualTo(entries(wal.firstIndex(), 205, 1, 100));
    }
  }

  @Test
  void hardStateAndSnapshotSurviveTheDeletionOfTheSegmentsThatHeldThem() throws IOException {
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      wal.saveHardState(new HardState(7, 2, 20));
      wal.saveSnapshotMarker(20, 7);
      wal.append(entries(21, 300, 7, 100));
      wal.sync();
      wal.releaseBefore(290);
      assertThat(segmentFiles(dir)).hasSizeLessThan(3);
    }
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      assertThat(wal.hardState()).isEqualTo(new HardState(7, 2, 20));
      assertThat(wal.lastSnapshot()).isEqualTo(new SnapshotMarker(20, 7));
      assertThat(wal.lastIndex()).isEqualTo(300);
      assertThat(wal.firstIndex()).isLessThanOrEqualTo(290);
    }
  }

  @Test
  void segmentsWhoseEntriesWereAllOverwrittenAreReleased() throws IOException {
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      wal.append(entries(1, 100, 1, 100));
      wal.sync();
      // everything from 10 on is replaced; the segments holding the old 10..100 hold no live entry
      wal.append(entries(10, 140, 2, 100));
      wal.sync();
      wal.releaseBefore(10);
      assertThat(wal.firstIndex()).isLessThanOrEqualTo(10);
      assertThat(replayFrom(wal, 10)).isEqualTo(entries(10, 140, 2, 100));
      wal.releaseBefore(120);
      assertThat(wal.firstIndex()).isGreaterThan(10).isLessThanOrEqualTo(120);
    }
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      assertThat(replayAll(wal)).isEqualTo(entries(wal.firstIndex(), 140, 2, 100));
    }
  }

  @Test
  void theSegmentBeingWrittenStaysEvenWhenAllItsEntriesAreReleased() throws IOException {
    try (Wal wal = Wal.open(dir, WalOptions.defaults().withSegmentBytes(1))) {
      wal.append(entries(1, 5, 1, 10));
      wal.saveSnapshotMarker(5, 1);
      wal.sync();
      wal.releaseBefore(6);
      // one entry per segment: entry 5 sits in the current segment, which is never deleted
      assertThat(wal.firstIndex()).isEqualTo(5);
      wal.append(entries(6, 6, 1, 10));
      wal.releaseBefore(7);
      assertThat(wal.firstIndex()).isEqualTo(6);
    }
    try (Wal wal = Wal.open(dir, WalOptions.defaults().withSegmentBytes(1))) {
      assertThat(wal.lastSnapshot()).isEqualTo(new SnapshotMarker(5, 1));
      assertThat(replayAll(wal)).isEqualTo(entries(6, 6, 1, 10));
    }
  }

  @Test
  void aResetKillsTheWholeLogAtOnceAndItsSegmentsAreReleasedLater() throws IOException {
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      wal.append(entries(1, 150, 1, 100));
      wal.sync();
      // a leader's snapshot at 100 contradicts our log: 101..150 must not come back after a crash
      wal.resetToSnapshot(100, 2);
      wal.saveHardState(new HardState(2, 0, 100));
      wal.sync();
      assertThat(wal.lastIndex()).isZero();
      assertThat(replayAll(wal)).isEmpty();
    }
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      assertThat(wal.lastSnapshot()).isEqualTo(new SnapshotMarker(100, 2, true));
      assertThat(wal.lastIndex()).isZero();
      assertThat(replayAll(wal)).isEmpty();
      assertThatThrownBy(() -> wal.append(List.of(entry(100, 2, 1))))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("covered by the snapshot at index 100");
      wal.append(entries(101, 120, 2, 100));
      wal.sync();
      int before = segmentFiles(dir).size();
      wal.releaseBefore(101);
      assertThat(segmentFiles(dir)).hasSizeLessThan(before);
      assertThat(replayAll(wal)).isEqualTo(entries(101, 120, 2, 100));
    }
    // the marker rewritten by the release is a plain one: it must not kill 101..120 on replay
    try (Wal wal = Wal.open(dir, SMALL_SEGMENTS)) {
      assertThat(wal.lastSnapshot().index()).isEqualTo(100);
      assertThat(wal.hardState()).isEqualTo(new HardState(2, 0, 100));
      assertThat(replayAll(wal)).isEqualTo(entries(101, 120, 2, 100));
    }
  }
}
