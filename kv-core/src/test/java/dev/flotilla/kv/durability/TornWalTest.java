package dev.flotilla.kv.durability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flotilla.kv.embed.EmbeddedKv;
import dev.flotilla.kv.embed.KvConfig;
import dev.flotilla.kv.v2.V2Error;
import dev.flotilla.kv.v2.V2ErrorCode;
import dev.flotilla.proto.store.StoreCommand;
import dev.flotilla.proto.store.V2Method;
import dev.flotilla.proto.store.V2Write;
import dev.flotilla.raft.wal.Wal;
import dev.flotilla.raft.wal.WalEntry;
import dev.flotilla.raft.wal.WalOptions;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store's WAL after a crash: a record torn at any byte is dropped and the member starts
 * with everything before it; damage in the middle of the log stops the start with a report.
 */
class TornWalTest {
  private static final int KEYS = 20;
  @TempDir Path tmp;

  private static KvConfig config(Path dir) {
    return KvConfig.builder(dir).listenClientUrl("http://127.0.0.1:0").build();
  }

  /** A data dir whose store holds keys 0..KEYS-1 and whose WAL ends with one more, unapplied, command. */
  private long[] prepare(Path dir) throws Exception {
    try (EmbeddedKv kv = EmbeddedKv.start(config(dir))) {
      for (int i = 0; i < KEYS; i++) {
        kv.client().set("/k" + i, "v" + i);
      }
    }
    Path walDir = dir.resolve("member/wal");
    Path seg = lastSegment(walDir);
    long before = Files.size(seg);
    try (Wal wal = Wal.open(walDir, WalOptions.defaults())) {
      byte[] cmd = StoreCommand.newBuilder().setV2Write(V2Write.newBuilder()
          .setMethod(V2Method.V2_PUT).setPath("/torn").setValue("t")).build().toByteArray();
      wal.append(List.of(new WalEntry(wal.lastIndex() + 1, 1, cmd)));
      wal.sync();
    }
    return new long[] {before, Files.size(seg)};
  }

  @Test
  void aRecordTornAtEveryOffsetIsDroppedAndTheRestServed() throws Exception {
    Path pristine = tmp.resolve("pristine");
    long[] range = prepare(pristine);
    assertThat(range[1]).isGreaterThan(range[0]);
    for (long cut = range[0]; cut <= range[1]; cut++) {
      Path dir = tmp.resolve("cut" + cut);
      copyTree(pristine, dir);
      try (RandomAccessFile f = new RandomAccessFile(lastSegment(dir.resolve("member/wal")).toFile(), "rw")) {
        f.setLength(cut);
      }
      try (EmbeddedKv kv = EmbeddedKv.start(config(dir))) {
        for (int i = 0; i < KEYS; i++) {
          assertThat(kv.client().get("/k" + i).node().value()).as("cut at %d", cut).isEqualTo("v" + i);
        }
        if (cut == range[1]) {
          assertThat(kv.client().get("/torn").node().value()).as("whole record replayed").isEqualTo("t");
        } else {
          assertThatThrownBy(() -> kv.client().get("/torn")).as("cut at %d", cut)
              .isInstanceOfSatisfying(V2Error.class, e -> assertThat(e.code()).isEqualTo(V2ErrorCode.KEY_NOT_FOUND));
        }
        kv.client().set("/after", "write");
      }
      try (EmbeddedKv kv = EmbeddedKv.start(config(dir))) {
        assertThat(kv.client().get("/after").node().value()).as("cut at %d, second start", cut).isEqualTo("write");
      }
      deleteTree(dir);
    }
  }

  @Test
  void damageInTheMiddleOfTheLogIsReportedNotSkipped() throws Exception {
    Path dir = tmp.resolve("mid");
    long[] range = prepare(dir);
    Path seg = lastSegment(dir.resolve("member/wal"));
    try (RandomAccessFile f = new RandomAccessFile(seg.toFile(), "rw")) {
      long at = range[0] / 2;
      f.seek(at);
      int b = f.read();
      f.seek(at);
      f.write(b ^ 0x5a);
    }
    assertThatThrownBy(() -> EmbeddedKv.start(config(dir)).close())
        .hasMessageContaining(seg.getFileName().toString())
        .hasMessageContaining("offset");
  }

  private static Path lastSegment(Path walDir) throws IOException {
    try (Stream<Path> s = Files.list(walDir)) {
      return s.filter(p -> p.toString().endsWith(".wal")).max(Comparator.naturalOrder()).orElseThrow();
    }
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        Path t = to.resolve(from.relativize(p));
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    }
  }
}
