package dev.flotilla.raft.wal;

import static dev.flotilla.raft.wal.WalFixtures.entries;
import static dev.flotilla.raft.wal.WalFixtures.entry;
import static dev.flotilla.raft.wal.WalFixtures.lastSegment;
import static dev.flotilla.raft.wal.WalFixtures.recordOffsets;
import static dev.flotilla.raft.wal.WalFixtures.replayAll;
import static dev.flotilla.raft.wal.WalFixtures.segmentFiles;
import static dev.flotilla.raft.wal.WalFixtures.writeLog;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flotilla.raft.testkit.LogWarnings;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Segments that start as zero-filled files ({@link SpareSegment}): the log's end inside one is where
 * the zeros begin, a torn write there is cut off like a torn append, and a segment left for a newer
 * one ends at its last record.
 */
class WalPreallocationTest {

  private static final int SEGMENT = 4096;
  private static final WalOptions OPTIONS = WalOptions.defaults().withSegmentBytes(SEGMENT);
  private static final long N = 80;

  @TempDir Path tmp;
  private Path pristine;

  /** Entries 1..N over several segments; the last one is a preallocated file with room left. */
  @BeforeEach
  void writePristineLog() throws IOException {
    pristine = tmp.resolve("pristine");
    writeLog(pristine, OPTIONS, N);
    List<Path> segments = segmentFiles(pristine);
    assertThat(segments).hasSizeGreaterThanOrEqualTo(3);
    assertThat(Files.size(lastSegment(pristine))).as("the last segment is a preallocated file").isEqualTo(SEGMENT);
    assertThat(logicalEnd(lastSegment(pristine))).isLessThan(SEGMENT);
  }

  @Test
  void segmentsAfterTheFirstStartZeroFilledAndEndAtTheirLastRecordWhenLeft() throws IOException {
    List<Path> segments = segmentFiles(pristine);
    for (Path sealed : segments.subList(0, segments.size() - 1)) {
      assertThat(Files.size(sealed)).as("%s ends at its last record", sealed).isEqualTo(logicalEnd(sealed));
      assertThat(Files.size(sealed)).isGreaterThanOrEqualTo(SEGMENT);
    }
    Path last = lastSegment(pristine);
    assertThat(isZero(last, logicalEnd(last), SEGMENT)).isTrue();
  }

  @Test
  void reopeningAPreallocatedSegmentCutsNothingAndAppendsInPlace() throws IOException {
    Path last = lastSegment(pristine);
    long end = logicalEnd(last);
    try (LogWarnings log = new LogWarnings(WalRecovery.class); Wal wal = Wal.open(pristine, OPTIONS)) {
      assertThat(log.lines()).isEmpty();
      assertThat(replayAll(wal)).isEqualTo(entries(1, N, 1, 120));
      assertThat(Files.size(last)).isEqualTo(SEGMENT);
      wal.append(List.of(entry(N + 1, 2, 40)));
      wal.sync();
      assertThat(Files.size(last)).as("written into the zeros, not appended").isEqualTo(SEGMENT);
      assertThat(logicalEnd(last)).isEqualTo(end + 8 + 17 + 40);
    }
    try (Wal wal = Wal.open(pristine, OPTIONS)) {
      List<WalEntry> expected = new ArrayList<>(entries(1, N, 1, 120));
      expected.add(entry(N + 1, 2, 40));
      assertThat(replayAll(wal)).isEqualTo(expected);
    }
  }

  @Test
  void aTornWriteIntoTheZerosLosesOnlyThatRecord() throws IOException {
    Path last = lastSegment(pristine);
    long start = logicalEnd(last);
    try (Wal wal = Wal.open(pristine, OPTIONS)) {
      wal.append(List.of(entry(N + 1, 1, 256)));
      wal.sync();
    }
    long end = start + 8 + 17 + 256;
    assertThat(logicalEnd(last)).isEqualTo(end);
    try (LogWarnings log = new LogWarnings(WalRecovery.class)) {
      for (long cut = start; cut < end; cut++) {
        Path dir = tmp.resolve("cut-" + cut);
        copy(pristine, dir);
        Path segment = dir.resolve(last.getFileName());
        zero(segment, cut, end);
        // a cut that kept only the length field's leading zero bytes looks like no write at all
        boolean nothingWritten = isZero(segment, start, SEGMENT);
        log.clear();
        try (Wal wal = Wal.open(dir, OPTIONS)) {
          assertThat(replayAll(wal)).as("cut at %d", cut).isEqualTo(entries(1, N, 1, 120));
          if (nothingWritten) {
            assertThat(log.lines()).as("zeros from a record boundary are the end, not damage").isEmpty();
            assertThat(Files.size(segment)).isEqualTo(SEGMENT);
          } else {
            assertThat(log.lines()).as("cut at %d", cut).singleElement().asString()
                .contains("torn write at offset " + start);
            assertThat(Files.size(segment)).isEqualTo(start);
          }
          wal.append(List.of(entry(N + 1, 2, 40)));
          wal.sync();
        }
        try (Wal wal = Wal.open(dir, OPTIONS)) {
          assertThat(wal.lastIndex()).as("second open after cut at %d", cut).isEqualTo(N + 1);
          assertThat(replayAll(wal).get((int) N)).isEqualTo(entry(N + 1, 2, 40));
        }
      }
    }
  }

  @Test
  void aLastWriteWhoseLaterBlocksLandedBeforeAnEarlierOneIsCutAtTheHole() throws IOException {
    WalOptions roomy = OPTIONS.withSegmentBytes(64 << 10);
    Path base = tmp.resolve("roomy");
    long n = 0;
    try (Wal wal = Wal.open(base, roomy)) {
      while (segmentFiles(base).size() < 2) {
        wal.append(entries(n + 1, n + 8, 1, 300));
        wal.sync();
        n += 8;
      }
    }
    Path last = lastSegment(base);
    assertThat(Files.size(last)).isEqualTo(64 << 10);
    long start = logicalEnd(last);
    try (Wal wal = Wal.open(base, roomy)) {
      wal.append(entries(n + 1, n + 8, 1, 300)); // one write of ~2.6 KiB: several sectors
      wal.sync();
    }
    List<Long> offsets = recordOffsets(last);
    int first = offsets.indexOf(start);
    long sector = (offsets.get(first + 2) / 512 + 1) * 512; // a sector starting inside entry n + 3 or n + 4
    assertThat(sector + 512).isLessThan(logicalEnd(last));
    // the power went while the sync was under way: every block but one reached the disk
    for (long hole : new long[] {start, sector}) {
      long cut = hole == start ? start : offsets.stream().filter(o -> o <= sector).reduce((a, b) -> b).orElseThrow();
      assertThat(cut == hole).as("the hole at %d starts a record only in the first case", hole).isEqualTo(hole == start);
      Path dir = tmp.resolve("hole-" + hole);
      copy(base, dir);
      Path segment = dir.resolve(last.getFileName());
      zero(segment, hole, hole == start ? (start / 512 + 1) * 512 : hole + 512);
      long kept = n + offsets.subList(first, offsets.indexOf(cut)).size();
      try (LogWarnings log = new LogWarnings(WalRecovery.class); Wal wal = Wal.open(dir, roomy)) {
        assertThat(log.lines()).as("hole at %d", hole).singleElement().asString()
            .contains("torn write at offset " + cut)
            .contains("zero-filled hole");
        assertThat(wal.lastIndex()).as("hole at %d", hole).isEqualTo(kept);
        assertThat(Files.size(segment)).isEqualTo(cut);
        wal.append(List.of(entry(kept + 1, 2, 40)));
        wal.sync();
      }
      try (Wal wal = Wal.open(dir, roomy)) {
        List<WalEntry> all = replayAll(wal);
        assertThat(all).hasSize((int) kept + 1).last().isEqualTo(entry(kept + 1, 2, 40));
      }
    }
  }

  @Test
  void aHoleInASegmentLeftForANewerOneIsCorruption() throws IOException {
    Path sealed = segmentFiles(pristine).get(1);
    long victim = recordOffsets(sealed).get(3);
    zero(sealed, victim, victim + 8);
    assertThatThrownBy(() -> Wal.open(pristine, OPTIONS))
        .isInstanceOf(WalCorruptionException.class)
        .hasMessageContaining(sealed + " at offset " + victim);
  }

  @Test
  void aLargeSpareIsWrittenOnItsOwnThreadAndBecomesTheNextSegment() throws IOException {
    long segment = 4 * SpareSegment.INLINE_BYTES;
    Path dir = tmp.resolve("large");
    try (Wal wal = Wal.open(dir, OPTIONS.withSegmentBytes(segment))) {
      long index = 1;
      while (!Files.exists(dir.resolve(SpareSegment.READY_NAME))) {
        wal.append(entries(index, index + 63, 1, 1000));
        wal.sync();
        index += 64;
        wal.awaitSpare();
      }
      assertThat(Files.size(dir.resolve(SpareSegment.READY_NAME))).isEqualTo(segment);
      assertThat(segmentFiles(dir)).hasSize(1);
      while (segmentFiles(dir).size() == 1) {
        wal.append(entries(index, index + 63, 1, 1000));
        wal.sync();
        index += 64;
      }
      assertThat(Files.exists(dir.resolve(SpareSegment.READY_NAME))).as("taken").isFalse();
      assertThat(Files.size(lastSegment(dir))).isEqualTo(segment);
      assertThat(replayAll(wal)).hasSize((int) index - 1);
    }
  }

  @Test
  void aGrowingSegmentIsLeftForAPreallocatedOneOnceASpareIsReady() throws IOException {
    long segment = 16L << 20;
    Path dir = tmp.resolve("early");
    long index = 1;
    try (Wal wal = Wal.open(dir, OPTIONS.withSegmentBytes(segment))) {
      Path first = lastSegment(appendBatch(wal, index, dir));
      index += 64;
      while (Files.size(first) < Wal.EARLY_ROTATION_BYTES) {
        appendBatch(wal, index, dir);
        index += 64;
      }
      wal.awaitSpare();
      assertThat(segmentFiles(dir)).as("a ready spare alone does not rotate").hasSize(1);
      appendBatch(wal, index, dir);
      index += 64;
      assertThat(segmentFiles(dir)).hasSize(2);
      assertThat(Files.size(first)).as("left at ~4 MiB, not when full")
          .isGreaterThanOrEqualTo(Wal.EARLY_ROTATION_BYTES).isLessThan(segment / 2);
      assertThat(Files.size(lastSegment(dir))).isEqualTo(segment);
      assertThat(replayAll(wal)).hasSize((int) index - 1);
    }
    try (Wal wal = Wal.open(dir, OPTIONS.withSegmentBytes(segment))) {
      assertThat(wal.lastIndex()).isEqualTo(index - 1);
    }
  }

  private static Path appendBatch(Wal wal, long index, Path dir) throws IOException {
    wal.append(entries(index, index + 63, 1, 1000));
    wal.sync();
    return dir;
  }

  @Test
  void withoutPreallocationSegmentsGrowWithTheirAppends() throws IOException {
    Path dir = tmp.resolve("plain");
    try (Wal wal = Wal.open(dir, OPTIONS.withPreallocate(false))) {
      for (long i = 1; i <= N; i += 8) {
        wal.append(entries(i, i + 7, 1, 120));
        wal.sync();
      }
    }
    for (Path segment : segmentFiles(dir)) {
      assertThat(Files.size(segment)).isEqualTo(logicalEnd(segment));
    }
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).noneMatch(name -> name.startsWith("spare"));
    }
  }

  /** Where a segment's readable records end. */
  private static long logicalEnd(Path segment) throws IOException {
    long end = 0;
    try (SegmentReader reader = new SegmentReader(segment, 0)) {
      while (reader.next() instanceof SegmentReader.Ok ok) {
        end = ok.end();
      }
    }
    return end;
  }

  private static void copy(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    for (Path segment : segmentFiles(from)) {
      Files.copy(segment, to.resolve(segment.getFileName()));
    }
  }

  private static void zero(Path file, long from, long to) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.write(ByteBuffer.allocate((int) (to - from)), from);
    }
  }

  private static boolean isZero(Path file, long from, long to) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    for (long i = from; i < to; i++) {
      if (bytes[(int) i] != 0) {
        return false;
      }
    }
    return true;
  }
}
