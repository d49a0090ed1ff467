package dev.flotilla.raft.node;

import dev.flotilla.raft.core.LogStore;
import dev.flotilla.raft.storage.EntrySyncingStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * Entries committed per second by a 3-member in-process cluster ({@link ThreeNodeCluster}: real
 * WALs, gRPC on loopback), with group commit against one fsync per entry, next to the disk's raw
 * fsync rate. Not a test and not a benchmark harness (those belong in {@code bench/}): a quick,
 * documented measurement.
 *
 * <pre>
 * cd /work/main &amp;&amp; mvn -q -o -pl raft -am test-compile &amp;&amp; \
 *   mvn -q -o -pl raft dependency:build-classpath -Dmdep.outputFile=/tmp/raft.cp &amp;&amp; \
 *   java -cp raft/target/test-classes:raft/target/classes:$(cat /tmp/raft.cp) \
 *     dev.flotilla.raft.node.RaftThroughput [dir] [entries]
 * </pre>
 */
public final class RaftThroughput {

  private RaftThroughput() {}

  public static void main(String[] args) throws Exception {
    Path base = args.length > 0 ? Path.of(args[0]) : Path.of(System.getProperty("java.io.tmpdir"));
    int n = args.length > 1 ? Integer.parseInt(args[1]) : 5000;
    Path dir = Files.createTempDirectory(base, "raft-throughput");
    try {
      System.out.printf("raw fsync: %.0f synced 4 KiB writes/s%n", rawFsyncRate(dir.resolve("fsync"), Duration.ofSeconds(3)));
      run("group commit, 256 proposals in flight", dir.resolve("a"), n, 256, UnaryOperator.identity());
      run("one fsync per entry, 256 proposals in flight", dir.resolve("b"), n / 5, 256, EntrySyncingStore::new);
      run("one proposal at a time (one entry per Ready)", dir.resolve("c"), n / 10, 1, UnaryOperator.identity());
      System.out.printf("raw fsync: %.0f synced 4 KiB writes/s%n", rawFsyncRate(dir.resolve("fsync"), Duration.ofSeconds(3)));
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted((x, y) -> y.compareTo(x)).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static void run(String label, Path dir, int n, int window, UnaryOperator<LogStore> wrapper) throws Exception {
    try (ThreeNodeCluster cluster = new ThreeNodeCluster(dir, Duration.ofMillis(50), 0, wrapper)) {
      cluster.startAll();
      cluster.awaitLeader(Duration.ofSeconds(30));
      cluster.proposeAll(values("warm", Math.min(200, n / 5)), window, Duration.ofMinutes(5));
      long before = fsyncs(cluster);
      long t0 = System.nanoTime();
      int retries = cluster.proposeAll(values("v", n), window, Duration.ofMinutes(10));
      double s = (System.nanoTime() - t0) / 1e9;
      long syncs = fsyncs(cluster) - before;
      System.out.printf("%-48s %6d entries in %6.2f s = %7.0f entries/s  (3 members: %d fsyncs, %.2f per entry; %d retries)%n",
          label, n, s, n / s, syncs, (double) syncs / n, retries);
    }
  }

  /** WAL syncs of all members so far: one per Ready that needed one, plus those of {@link EntrySyncingStore}. */
  private static long fsyncs(ThreeNodeCluster cluster) {
    long total = EntrySyncingStore.SYNCS.get();
    for (long id : ThreeNodeCluster.IDS) {
      total += cluster.member(id).node.readiesAndSyncs()[1];
    }
    return total;
  }

  private static List<String> values(String prefix, int n) {
    List<String> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(prefix + "-" + i);
    }
    return out;
  }

  /** 4 KiB written and fdatasynced in a loop, as fast as the disk allows. */
  static double rawFsyncRate(Path file, Duration time) throws IOException {
    ByteBuffer block = ByteBuffer.allocateDirect(4096);
    long count = 0;
    long end = System.nanoTime() + time.toNanos();
    long t0 = System.nanoTime();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      long pos = 0;
      while (System.nanoTime() < end) {
        block.clear();
        ch.write(block, pos);
        ch.force(false);
        pos += 4096;
        count++;
      }
    }
    return count / ((System.nanoTime() - t0) / 1e9);
  }
}
