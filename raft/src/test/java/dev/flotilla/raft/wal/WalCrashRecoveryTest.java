package dev.flotilla.raft.wal;

import static dev.flotilla.raft.wal.WalFixtures.appendBytes;
import static dev.flotilla.raft.wal.WalFixtures.copySegments;
import static dev.flotilla.raft.wal.WalFixtures.entries;
import static dev.flotilla.raft.wal.WalFixtures.entry;
import static dev.flotilla.raft.wal.WalFixtures.lastSegment;
import static dev.flotilla.raft.wal.WalFixtures.recordOffsets;
import static dev.flotilla.raft.wal.WalFixtures.replayAll;
import static dev.flotilla.raft.wal.WalFixtures.segmentFiles;
import static dev.flotilla.raft.wal.WalFixtures.truncate;
import static dev.flotilla.raft.wal.WalFixtures.writeLog;
import static dev.flotilla.raft.wal.WalFixtures.xorByte;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flotilla.raft.testkit.LogWarnings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged segment files: a torn final write must be cut off and the log stay usable; any other
 * damage must stop the open with the file and offset named.
 */
class WalCrashRecoveryTest {

  /** Segments that grow with their appends: the cuts below are torn appends (WalPreallocationTest has the other layout). */
  private static final WalOptions OPTIONS = WalOptions.defaults().withSegmentBytes(4096).withPreallocate(false);
  /** Entries 1..N written before the record under test; several segments' worth. */
  private static final long N = 80;

  @TempDir Path tmp;
  private Path pristine;

  @BeforeEach
  void writePristineLog() throws IOException {
    pristine = tmp.resolve("pristine");
    writeLog(pristine, OPTIONS, N);
    assertThat(segmentFiles(pristine)).hasSizeGreaterThanOrEqualTo(3);
  }

  @Test
  void crashAtEveryByteOfTheLastRecordLosesOnlyThatRecord() throws IOException {
    Path last = lastSegment(pristine);
    long start = Files.size(last);
    try (Wal wal = Wal.open(pristine, OPTIONS)) {
      wal.append(List.of(entry(N + 1, 1, 256)));
      wal.sync();
    }
    long end = Files.size(last);
    assertThat(end - start).isEqualTo(8 + 17 + 256);

    try (LogWarnings log = new LogWarnings(WalRecovery.class)) {
      for (long cut = start; cut < end; cut++) {
        Path dir = tmp.resolve("cut-" + cut);
        copySegments(pristine, dir);
        Path segment = dir.resolve(last.getFileName());
        truncate(segment, cut);
        log.clear();

        try (Wal wal = Wal.open(dir, OPTIONS)) {
          assertThat(wal.lastIndex()).as("cut at %d", cut).isEqualTo(N);
          assertThat(replayAll(wal)).as("cut at %d", cut).isEqualTo(entries(1, N, 1, 120));
          assertThat(Files.size(segment)).isEqualTo(start);
          if (cut == start) {
            assertThat(log.lines()).isEmpty();
          } else {
            assertThat(log.lines()).as("cut at %d", cut).singleElement().asString()
                .contains(segment.toString())
                .contains("torn write at offset " + start)
                .contains("dropped " + (cut - start) + " bytes");
          }
          wal.append(List.of(entry(N + 1, 2, 40)));
          wal.sync();
        }
        log.clear();
        try (Wal wal = Wal.open(dir, OPTIONS)) {
          assertThat(log.lines()).as("second open after cut at %d", cut).isEmpty();
          assertThat(wal.lastIndex()).isEqualTo(N + 1);
          List<WalEntry> expected = new ArrayList<>(entries(1, N, 1, 120));
          expected.add(entry(N + 1, 2, 40));
          assertThat(replayAll(wal)).isEqualTo(expected);
          assertThat(wal.hardState()).isEqualTo(new HardState(1, 1, N - 7));
        }
      }
    }
  }

  @Test
  void tornTailFollowedByZeroPaddingIsCutOff() throws IOException {
    Path last = lastSegment(pristine);
    long start = Files.size(last);
    try (Wal wal = Wal.open(pristine, OPTIONS)) {
      wal.append(List.of(entry(N + 1, 1, 256)));
      wal.sync();
    }
    // keep every prefix of the record, then zeros where the rest of its blocks never arrived (no
    // prefix at all, zeros from a record boundary on, is a preallocated segment's unwritten end:
    // WalPreallocationTest)
    for (long keep : new long[] {3, 8, 20, 100, 8 + 17 + 255}) {
      Path dir = tmp.resolve("pad-" + keep);
      copySegments(pristine, dir);
      Path segment = dir.resolve(last.getFileName());
      truncate(segment, start + keep);
      appendBytes(segment, new byte[4096]);
      try (LogWarnings log = new LogWarnings(WalRecovery.class); Wal wal = Wal.open(dir, OPTIONS)) {
        assertThat(log.lines()).as("kept %d", keep).singleElement().asString()
            .contains("torn write at offset " + start)
            .contains("dropped " + (keep + 4096) + " bytes");
        assertThat(replayAll(wal)).isEqualTo(entries(1, N, 1, 120));
        wal.append(List.of(entry(N + 1, 2, 10)));
      }
      try (LogWarnings log = new LogWarnings(WalRecovery.class); Wal wal = Wal.open(dir, OPTIONS)) {
        assertThat(log.lines()).isEmpty();
        assertThat(wal.lastIndex()).isEqualTo(N + 1);
      }
    }
  }

  @Test
  void crashWhileCreatingASegmentDropsItAndTheLogGoesOn() throws IOException {
    // a rotation whose new segment never got (all of) its header
    try (Wal wal = Wal.open(pristine, OPTIONS.withSegmentBytes(1))) {
      wal.append(List.of(entry(N + 1, 1, 10)));
      wal.sync();
    }
    Path newest = lastSegment(pristine);
    long headerBytes = recordOffsets(newest).get(1);
    for (long cut = 0; cut < headerBytes; cut++) {
      Path dir = tmp.resolve("header-" + cut);
      copySegments(pristine, dir);
      truncate(dir.resolve(newest.getFileName()), cut);
      try (LogWarnings log = new LogWarnings(WalRecovery.class); Wal wal = Wal.open(dir, OPTIONS)) {
        assertThat(log.lines()).last().asString().contains("deleting it");
        assertThat(Files.exists(dir.resolve(newest.getFileName()))).isFalse();
        assertThat(replayAll(wal)).isEqualTo(entries(1, N, 1, 120));
        wal.append(List.of(entry(N + 1, 2, 10)));
      }
      try (Wal wal = Wal.open(dir, OPTIONS)) {
        assertThat(wal.lastIndex()).isEqualTo(N + 1);
      }
    }
  }

  @Test
  void flippedByteAnywhereInAMiddleRecordOfAnEarlierSegmentIsCorruption() throws IOException {
    Path first = segmentFiles(pristine).get(0);
    List<Long> offsets = recordOffsets(first);
    int victim = offsets.size() / 2;
    assertFlipsAreReported(first, offsets.get(victim), offsets.get(victim + 1));
    // the last record of an earlier segment is not a tail either
    assertFlipsAreReported(first, offsets.get(offsets.size() - 1), Files.size(first));
  }

  @Test
  void flippedByteAnywhereInAMiddleRecordOfTheLastSegmentIsCorruption() throws IOException {
    Path last = lastSegment(pristine);
    List<Long> offsets = recordOffsets(last);
    assertThat(offsets).hasSizeGreaterThanOrEqualTo(4);
    int victim = offsets.size() - 3;
    assertFlipsAreReported(last, offsets.get(victim), offsets.get(victim + 1));
  }

  /** Flips each byte of {@code [from, to)} (two ways) in a fresh copy and expects a corruption error. */
  private void assertFlipsAreReported(Path segment, long from, long to) throws IOException {
    for (long at = from; at < to; at++) {
      for (int mask : new int[] {0x01, 0xff}) {
        Path dir = tmp.resolve("flip-" + segment.getFileName() + "-" + at + "-" + mask);
        copySegments(pristine, dir);
        Path damaged = dir.resolve(segment.getFileName());
        xorByte(damaged, at, mask);
        long sizeBefore = Files.size(damaged);
        final long byteAt = at;
        assertThatThrownBy(() -> Wal.open(dir, OPTIONS).close())
            .as("byte %d ^ %02x", at, mask)
            .isInstanceOfSatisfying(WalCorruptionException.class, e -> {
              assertThat(e.file()).isEqualTo(damaged);
              assertThat(e.offset()).as("byte %d", byteAt).isEqualTo(from);
              assertThat(e.getMessage()).contains(damaged.toString()).contains("at offset " + from);
            });
        assertThat(Files.size(damaged)).as("nothing is truncated").isEqualTo(sizeBefore);
      }
    }
  }

  @Test
  void corruptionMessageSaysWhatIsWrong() throws IOException {
    Path first = segmentFiles(pristine).get(0);
    long victim = recordOffsets(first).get(3);
    xorByte(first, victim + 30, 0x10);
    assertThatThrownBy(() -> Wal.open(pristine, OPTIONS))
        .isInstanceOf(WalCorruptionException.class)
        .hasMessageContaining("WAL corruption in " + first + " at offset " + victim + ": crc32c mismatch")
        .hasMessageContaining("not the last one");
  }

  @Test
  void aCorruptionDoesNotLeaveTheDirectoryLocked() throws IOException {
    Path first = segmentFiles(pristine).get(0);
    long victim = recordOffsets(first).get(2) + 20;
    xorByte(first, victim, 0x01);
    assertThatThrownBy(() -> Wal.open(pristine, OPTIONS)).isInstanceOf(WalCorruptionException.class);
    xorByte(first, victim, 0x01);
    try (Wal wal = Wal.open(pristine, OPTIONS)) {
      assertThat(wal.lastIndex()).isEqualTo(N);
    }
  }

  @Test
  void aMissingMiddleSegmentIsCorruption() throws IOException {
    List<Path> files = segmentFiles(pristine);
    Files.delete(files.get(1));
    assertThatThrownBy(() -> Wal.open(pristine, OPTIONS))
        .isInstanceOf(WalCorruptionException.class)
        .hasMessageContaining(files.get(2).toString())
        .hasMessageContaining("segment sequence 1 is missing");
  }

  @Test
  void anEmptyEarlierSegmentIsCorruption() throws IOException {
    Path first = segmentFiles(pristine).get(0);
    truncate(first, 0);
    assertThatThrownBy(() -> Wal.open(pristine, OPTIONS))
        .isInstanceOf(WalCorruptionException.class)
        .hasMessageContaining(first + " at offset 0: segment is empty");
  }

  @Test
  void aRenamedSegmentIsCaughtByItsHeader() throws IOException {
    List<Path> files = segmentFiles(pristine);
    Path last = files.get(files.size() - 1);
    Path renamed = pristine.resolve(SegmentFile.name(files.size(), 1));
    Files.copy(files.get(0), renamed);
    assertThatThrownBy(() -> Wal.open(pristine, OPTIONS))
        .isInstanceOf(WalCorruptionException.class)
        .hasMessageContaining(renamed.toString())
        .hasMessageContaining("header says sequence 0 but the file name says " + files.size());
    assertThat(last).exists();
  }
}
