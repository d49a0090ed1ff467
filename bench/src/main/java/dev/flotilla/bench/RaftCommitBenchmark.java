package dev.flotilla.bench;

import dev.flotilla.raft.storage.EntrySyncingStore;

import dev.flotilla.raft.core.LogStore;
import dev.flotilla.raft.node.RaftNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Entries committed per second by a 3-member in-process Raft cluster ({@link WalCluster}: real WALs
 * on disk, gRPC on loopback), with group commit against one fsync per entry, and beside it the
 * disk's raw rate of synced 4 KiB writes. One operation of {@link #commit} is one entry proposed to
 * the leader and applied there; the score in ops/s is entries committed per second.
 *
 * <p>WALs and the fsync file go under {@code -Dbench.dir} (default {@code java.io.tmpdir}), so the
 * numbers are those of that file system. Run with {@code bench/run-jmh.sh RaftCommitBenchmark}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Threads(1)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 3, time = 5)
public class RaftCommitBenchmark {

  /** A cluster on fresh WAL directories for the whole trial, with {@code inFlight} proposals kept outstanding. */
  @State(Scope.Benchmark)
  public static class Cluster {

    /** {@code group-commit}: one WAL sync per Ready, however many entries it holds. {@code fsync-per-entry}: one per entry. */
    @Param({"group-commit", "fsync-per-entry"})
    public String durability;

    /** Proposals outstanding at the leader; 1 is one proposal at a time (one entry per Ready). */
    @Param({"1", "64", "256"})
    public int inFlight;

    @Param({"100"})
    public int entryBytes;

    private Path dir;
    private WalCluster cluster;
    private RaftNode leader;
    private byte[] payload;
    private final ArrayDeque<CompletableFuture<Long>> pending = new ArrayDeque<>();
    private long committed;
    private long resent;
    private long syncsBefore;

    @Setup(Level.Trial)
    public void start() throws IOException, InterruptedException {
      UnaryOperator<LogStore> wrapper = switch (durability) {
        case "group-commit" -> UnaryOperator.identity();
        case "fsync-per-entry" -> EntrySyncingStore::new;
        default -> throw new IllegalArgumentException(
            "durability must be group-commit or fsync-per-entry, got " + durability);
      };
      dir = Files.createTempDirectory(benchDir(), "raft-commit-bench");
      cluster = WalCluster.start(dir, wrapper);
      leader = cluster.awaitLeader(Duration.ofSeconds(30));
      payload = new byte[entryBytes];
      Arrays.fill(payload, (byte) 'x');
      syncsBefore = syncs();
      for (int i = 0; i < inFlight; i++) {
        pending.add(propose());
      }
    }

    private CompletableFuture<Long> propose() {
      // a proposal lost on the way never completes: bound the wait, then resend
      return leader.propose(payload).orTimeout(10, TimeUnit.SECONDS);
    }

    /**
     * Waits for the oldest outstanding proposal to be applied at the leader and puts a new one in
     * flight. One dropped by a leader change is resent to the new leader and not counted.
     */
    void commitOne() throws InterruptedException {
      while (true) {
        CompletableFuture<Long> oldest = pending.poll();
        try {
          oldest.get();
          committed++;
          pending.add(propose());
          return;
        } catch (ExecutionException e) {
          resent++;
          leader = cluster.awaitLeader(Duration.ofSeconds(30));
          pending.add(propose());
        }
      }
    }

    private long syncs() {
      return cluster.nodeSyncs() + EntrySyncingStore.SYNCS.get();
    }

    @TearDown(Level.Trial)
    public void stop() throws IOException {
      try {
        if (cluster != null) {
          long syncs = syncs() - syncsBefore;
          System.out.printf("%n%s, %d in flight, whole trial: %d entries committed, %d WAL syncs on 3 members (%.2f per entry), %d resent%n",
              durability, inFlight, committed, syncs, committed == 0 ? 0.0 : (double) syncs / committed, resent);
          cluster.close();
        }
      } finally {
        deleteTree(dir);
      }
    }
  }

  /** A temp file that grows by 4 KiB per synced write, emptied before every iteration. */
  @State(Scope.Thread)
  public static class Disk {
    private Path dir;
    private FileChannel channel;
    private final ByteBuffer block = ByteBuffer.allocateDirect(4096);
    private long position;

    @Setup(Level.Trial)
    public void open() throws IOException {
      dir = Files.createTempDirectory(benchDir(), "raw-fsync-bench");
      channel = FileChannel.open(dir.resolve("fsync"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }

    @Setup(Level.Iteration)
    public void empty() throws IOException {
      channel.truncate(0);
      channel.force(true);
      position = 0;
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
      try {
        channel.close();
      } finally {
        deleteTree(dir);
      }
    }
  }

  /** One entry committed by the cluster (see {@link Cluster#commitOne}). */
  @Benchmark
  public void commit(Cluster c) throws InterruptedException {
    c.commitOne();
  }

  /**
   * One 4 KiB append and {@code force(false)} (fdatasync), as the WAL does: the most synced writes
   * per second the disk allows one writer, so the ceiling for fsync-per-entry.
   */
  @Benchmark
  public void rawFsync4k(Disk d) throws IOException {
    d.block.clear();
    while (d.block.hasRemaining()) {
      d.position += d.channel.write(d.block, d.position);
    }
    d.channel.force(false);
  }

  private static Path benchDir() {
    return Path.of(System.getProperty("bench.dir", System.getProperty("java.io.tmpdir")));
  }

  private static void deleteTree(Path dir) throws IOException {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    }
  }
}
