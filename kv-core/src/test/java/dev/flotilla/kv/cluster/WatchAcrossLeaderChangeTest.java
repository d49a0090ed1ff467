package dev.flotilla.kv.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.flotilla.kv.client.JetcdStoreClient;
import dev.flotilla.kv.client.KeyRange;
import dev.flotilla.kv.client.StoreException;
import dev.flotilla.kv.client.WatchEvent;
import dev.flotilla.kv.client.WatchHandle;
import dev.flotilla.kv.client.WatchListener;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A v3 watch stream across leader changes, as a client sees it: a 3-member kvd cluster, a writer
 * putting keys without pause, a watcher (jetcd with every member's URL) on their prefix from the
 * first revision. The leader is killed (-9) and later a second one; the killed members come back.
 * Every write acknowledged must reach the watcher exactly once, in revision order: no event lost,
 * none repeated, whichever member the watch stream was on when its leader went.
 */
class WatchAcrossLeaderChangeTest {
  @TempDir
  Path root;
  private KvdCluster cluster;

  @AfterEach
  void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void aWatchSeesEveryAcknowledgedWriteOnceThroughTwoLeaderKills() throws Exception {
    cluster = new KvdCluster(root, 3);
    cluster.startAll();
    assertThat(cluster.awaitLeader(Duration.ofSeconds(30))).as("a leader").isNotNull();
    ByteString prefix = ByteString.copyFromUtf8("/watched/");
    Recorder all = new Recorder();
    Recorder pinned = new Recorder();
    ConcurrentSkipListSet<Long> acknowledged = new ConcurrentSkipListSet<>();
    AtomicBoolean writing = new AtomicBoolean(true);
    AtomicInteger failedWrites = new AtomicInteger();

    KvdCluster.Member firstLeader = cluster.awaitLeader(Duration.ofSeconds(30));
    // one watcher may use every member; the other only the first leader, which is killed and comes
    // back: its stream fails for sure, and must resume on the restarted member where it left off
    try (JetcdStoreClient watcher = JetcdStoreClient.connect(cluster.clientUrls(), Duration.ofSeconds(5));
        JetcdStoreClient pinnedWatcher = JetcdStoreClient.connect(List.of(firstLeader.clientUrl()), Duration.ofSeconds(5));
        JetcdStoreClient writer = JetcdStoreClient.connect(cluster.clientUrls(), Duration.ofSeconds(5))) {
      long from = writer.get(KeyRange.prefix(prefix)).revision() + 1;
      WatchHandle watch = watcher.watch(KeyRange.prefix(prefix), from, all);
      WatchHandle pinnedWatch = pinnedWatcher.watch(KeyRange.prefix(prefix), from, pinned);
      Thread w = new Thread(() -> {
        for (int i = 0; writing.get(); i++) {
          try {
            long rev = writer.put(prefix.concat(ByteString.copyFromUtf8("k" + (i % 50))),
                ByteString.copyFromUtf8("v" + i), 0).revision();
            acknowledged.add(rev);
          } catch (StoreException e) {
            failedWrites.incrementAndGet(); // no leader for a moment: its outcome is unknown
          }
          LockSupport.parkNanos(2_000_000);
        }
      }, "writer");
      w.start();
      for (int kill = 0; kill < 2; kill++) {
        LockSupport.parkNanos(Duration.ofSeconds(3).toNanos());
        KvdCluster.Member leader = cluster.awaitLeader(Duration.ofSeconds(30));
        assertThat(leader).as("a leader before kill %d", kill + 1).isNotNull();
        leader.kill();
        // the others name the dead leader until their election timeout: wait for one of them
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        KvdCluster.Member next = null;
        while (System.nanoTime() < deadline && (next == null || next == leader)) {
          next = cluster.awaitLeader(Duration.ofSeconds(30));
          LockSupport.parkNanos(50_000_000);
        }
        assertThat(next).as("a new leader after kill %d", kill + 1).isNotNull().isNotSameAs(leader);
        LockSupport.parkNanos(Duration.ofSeconds(2).toNanos());
        leader.start();
        leader.awaitUp(KvdCluster.START_TIMEOUT);
      }
      LockSupport.parkNanos(Duration.ofSeconds(2).toNanos());
      writing.set(false);
      w.join(30_000);
      long last = acknowledged.last();
      assertThat(acknowledged.size()).as("writes acknowledged").isGreaterThan(100);
      for (Recorder r : List.of(all, pinned)) {
        String which = r == all ? "the watch over every member" : "the watch pinned to " + firstLeader;
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline && r.last() < last && r.errors.isEmpty()) {
          LockSupport.parkNanos(50_000_000);
        }
        List<Long> got = r.revisions();
        System.out.printf("%s, through two leader kills: %d writes acknowledged, %d failed, %d events seen%n",
            which, acknowledged.size(), failedWrites.get(), got.size());
        assertThat(r.compacted).as("%s: no compaction happened, so it must not be told so", which).isFalse();
        assertThat(r.errors).as("%s survives: it never ended with an error", which).isEmpty();
        for (int i = 1; i < got.size(); i++) {
          assertThat(got.get(i)).as("%s: event %d after revision %d: in order, not repeated", which, i, got.get(i - 1))
              .isGreaterThan(got.get(i - 1));
        }
        assertThat(got).as("%s: every acknowledged write seen", which).containsAll(acknowledged);
      }
      watch.close();
      pinnedWatch.close();
    }
  }

  /** What one watch delivered. */
  private static final class Recorder implements WatchListener {
    private final List<Long> seen = Collections.synchronizedList(new ArrayList<>());
    final AtomicBoolean compacted = new AtomicBoolean();
    final List<String> errors = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void onEvents(List<WatchEvent> events) {
      events.forEach(e -> seen.add(e.revision()));
    }

    @Override
    public void onCompacted(long compactRevision) {
      compacted.set(true);
    }

    @Override
    public void onError(StoreException error) {
      errors.add(error.toString());
    }

    long last() {
      synchronized (seen) {
        return seen.isEmpty() ? 0 : seen.get(seen.size() - 1);
      }
    }

    List<Long> revisions() {
      synchronized (seen) {
        return List.copyOf(seen);
      }
    }
  }
}
