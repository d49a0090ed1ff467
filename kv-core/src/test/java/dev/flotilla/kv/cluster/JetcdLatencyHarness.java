package dev.flotilla.kv.cluster;

import com.google.protobuf.ByteString;
import dev.flotilla.kv.client.Compare;
import dev.flotilla.kv.client.JetcdStoreClient;
import dev.flotilla.kv.client.KeepAlive;
import dev.flotilla.kv.client.KeyRange;
import dev.flotilla.kv.client.Op;
import dev.flotilla.kv.client.StoreClient;
import dev.flotilla.kv.client.StoreException;
import dev.flotilla.kv.client.Txn;
import dev.flotilla.kv.client.WatchEvent;
import dev.flotilla.kv.client.WatchHandle;
import dev.flotilla.kv.client.WatchListener;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Drives a kvd cluster the way fleetd does (txns with compares, prefix ranges, deletes, a kept-alive
 * lease, prefix watches), several {@link JetcdStoreClient}s with a few threads each, and records
 * every request's latency. Used by {@link JetcdClusterLatencyTest}.
 */
final class JetcdLatencyHarness implements AutoCloseable {

  record Sample(String client, String kind, long startNanos, long nanos, String error) {}

  private final List<StoreClient> clients = new ArrayList<>();
  private final List<String> names = new ArrayList<>();
  private final List<AutoCloseable> streams = new ArrayList<>();
  final ConcurrentLinkedQueue<Sample> samples = new ConcurrentLinkedQueue<>();
  final AtomicLong watchEvents = new AtomicLong();
  final ConcurrentLinkedQueue<String> streamErrors = new ConcurrentLinkedQueue<>();
  private final long t0 = System.nanoTime();

  /** One client per list of endpoints, each named. */
  JetcdLatencyHarness(List<List<URI>> endpointsPerClient, Duration timeout) {
    for (List<URI> e : endpointsPerClient) {
      clients.add(JetcdStoreClient.connect(e, timeout));
      names.add(e.size() == 1 ? e.get(0).getHost() : "all");
    }
  }

  /** Runs {@code threadsPerClient} workers per client for {@code duration}; returns the samples. */
  List<Sample> run(Duration duration, int threadsPerClient) throws InterruptedException {
    for (int c = 0; c < clients.size(); c++) {
      StoreClient client = clients.get(c);
      String name = "c" + c + "/" + names.get(c);
      int ci = c;
      try {
        // a client's first call sets up its connections (seconds with a cold JVM); nothing runs beside it
        timed(name, "warm-up", () -> client.get(KeyRange.key("/h/warm-up")));
      } catch (StoreException e) {
        // recorded
      }
      // what an agent holds: a presence lease kept alive, watches on its schedule and the globals
      long lease = timed(name, "grant", () -> client.grant(4).id());
      KeepAlive ka = client.keepAlive(lease);
      streams.add(ka);
      ka.lost().thenAccept(e -> streamErrors.add(name + ": lease lost: " + e));
      for (String prefix : List.of("/h/units/", "/h/schedule/" + c + "/")) {
        WatchHandle w = client.watch(KeyRange.prefix(prefix), 0, new WatchListener() {
          @Override
          public void onEvents(List<WatchEvent> events) {
            watchEvents.addAndGet(events.size());
          }

          @Override
          public void onCompacted(long compactRevision) {
            streamErrors.add(name + ": watch compacted at " + compactRevision);
          }

          @Override
          public void onError(StoreException error) {
            streamErrors.add(name + ": watch error " + error);
          }
        });
        streams.add(w);
      }
      timed(name, "put-lease", () -> client.put(bytes("/h/machines/" + ci), bytes("up"), lease));
    }
    long deadline = System.nanoTime() + duration.toNanos();
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < clients.size(); c++) {
      for (int t = 0; t < threadsPerClient; t++) {
        int ci = c;
        int ti = t;
        Thread th = new Thread(() -> work(ci, ti, deadline), "load-c" + c + "-t" + t);
        th.start();
        threads.add(th);
      }
    }
    for (Thread th : threads) {
      th.join();
    }
    List<Sample> all = new ArrayList<>(samples);
    all.sort((a, b) -> Long.compare(a.startNanos, b.startNanos));
    return all;
  }

  private void work(int c, int t, long deadline) {
    StoreClient client = clients.get(c);
    String name = "c" + c + "/" + names.get(c);
    ThreadLocalRandom rnd = ThreadLocalRandom.current();
    for (int i = 0; System.nanoTime() < deadline; i++) {
      int n = i;
      String unit = "/h/units/u" + c + "-" + t + "-" + (n % 20);
      ByteString key = bytes(unit);
      try {
        switch (rnd.nextInt(7)) {
          case 0 -> timed(name, "txn-create", () -> client.txn(Txn.when(Compare.absent(key))
              .then(Op.put(key, bytes("unit " + unit)), Op.put(bytes("/h/schedule/" + c + "/u" + t), bytes(unit)))
              .orElse(Op.get(KeyRange.key(key)))));
          case 1 -> timed(name, "range-prefix", () -> client.get(KeyRange.prefix("/h/units/")));
          case 2 -> timed(name, "delete", () -> client.delete(KeyRange.key(key)));
          case 3 -> timed(name, "range-key", () -> client.get(KeyRange.key("/h/state")));
          case 4 -> timed(name, "put", () -> client.put(bytes("/h/states/" + c + "/" + t), bytes(Integer.toString(n))));
          case 5 -> timed(name, "txn-read", () -> client.txn(Txn.when()
              .then(Op.get(KeyRange.key(key)), Op.get(KeyRange.key("/h/schedule/" + c + "/u" + t)))));
          default -> {
            var g = timed(name, "range-key", () -> client.get(KeyRange.key(key)));
            long mod = g.kvs().isEmpty() ? 0 : g.kvs().get(0).modRevision();
            timed(name, "txn-cas", () -> client.txn(Txn.when(Compare.unchanged(key, mod))
                .then(Op.put(key, bytes("v" + n))).orElse(Op.get(KeyRange.key(key)))));
          }
        }
      } catch (StoreException e) {
        // recorded by timed
      }
    }
  }

  interface Call<T> {
    T call();
  }

  private <T> T timed(String client, String kind, Call<T> call) {
    long s = System.nanoTime();
    try {
      T r = call.call();
      samples.add(new Sample(client, kind, s - t0, System.nanoTime() - s, null));
      return r;
    } catch (StoreException e) {
      samples.add(new Sample(client, kind, s - t0, System.nanoTime() - s, e.code() + ": " + e.getMessage()));
      throw e;
    }
  }

  static String summary(List<Sample> all) {
    List<Long> lat = new ArrayList<>(all.size());
    all.forEach(s -> lat.add(s.nanos()));
    Collections.sort(lat);
    if (lat.isEmpty()) {
      return "no samples";
    }
    return String.format("n=%d p50=%.1fms p99=%.1fms p99.9=%.1fms max=%.1fms errors=%d",
        lat.size(), ms(lat, 0.5), ms(lat, 0.99), ms(lat, 0.999), lat.get(lat.size() - 1) / 1e6,
        all.stream().filter(s -> s.error() != null).count());
  }

  private static double ms(List<Long> sorted, double q) {
    return sorted.get(Math.min(sorted.size() - 1, (int) (q * sorted.size()))) / 1e6;
  }

  static ByteString bytes(String s) {
    return ByteString.copyFromUtf8(s);
  }

  @Override
  public void close() {
    for (AutoCloseable s : streams) {
      try {
        s.close();
      } catch (Exception e) {
        // closing anyway
      }
    }
    clients.forEach(StoreClient::close);
  }
}
