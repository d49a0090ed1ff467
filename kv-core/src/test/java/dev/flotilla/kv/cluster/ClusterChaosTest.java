package dev.flotilla.kv.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.flotilla.kv.cluster.check.CheckResult;
import dev.flotilla.kv.cluster.check.History;
import dev.flotilla.kv.cluster.check.LinearizabilityChecker;
import dev.flotilla.kv.cluster.check.RegisterModel;
import dev.flotilla.kv.compat.Tools;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault schedules against real kvd clusters (3 or 5 processes): clients record v2 writes,
 * compare-and-swaps and quorum reads on a few keys while a nemesis kills (-9), pauses (SIGSTOP)
 * and partitions (iptables) members, the leader first among them; then every member comes back,
 * every key is read through every member, and the history must be linearizable for a CAS
 * register per key: no acknowledged write lost, no stale or invented read. Members snapshot every
 * 300 entries, so a member back from a long absence catches up by snapshot.
 *
 * <p>{@code -Dchaos.schedules=N} (default 20) sets how many schedules run; {@code -Dchaos.seed=S}
 * replays one (schedule seeds are printed; a failure saves the history and the logs).
 */
class ClusterChaosTest {
  private static final int SCHEDULES = Integer.getInteger("chaos.schedules", 20);
  private static final Long SEED = Long.getLong("chaos.seed");
  private static final Duration RUN = Duration.ofMillis(Long.getLong("chaos.runMillis", 6000));
  private static final int CLIENTS = 6;
  /**
   * Enough keys that writes of unknown outcome (timeouts while no quorum) spread thin: the
   * checker's search grows with the unknown writes overlapping on one key.
   */
  private static final List<String> KEYS = List.of("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7");
  private static final Pattern VALUE = Pattern.compile("\"node\":\\{\"key\":\"[^\"]*\",\"value\":\"([^\"]*)\"");

  private static Firewall firewall;
  private static String noFirewall;

  @TempDir
  Path tmp;

  @BeforeAll
  static void checkTools() {
    noFirewall = Firewall.unavailable();
    Tools.require(noFirewall == null, "network partitions need iptables as root: " + noFirewall);
    firewall = new Firewall();
  }

  @AfterAll
  static void removeRules() throws Exception {
    if (firewall != null) {
      firewall.remove();
    }
  }

  @TestFactory
  Stream<DynamicTest> faultSchedules() {
    long base = SEED != null ? SEED : new Random().nextLong() & 0xFFFF_FFFFL;
    int n = SEED != null ? 1 : SCHEDULES;
    return IntStream.range(0, n).mapToObj(i -> {
      long seed = base + i;
      int size = Math.floorMod(seed, 4) == 3 ? 5 : 3;
      return DynamicTest.dynamicTest("seed " + seed + ", " + size + " members", () -> runSchedule(seed, size));
    });
  }

  private void runSchedule(long seed, int size) throws Exception {
    Random rnd = new Random(seed);
    Path dir = Files.createDirectories(tmp.resolve("seed-" + seed));
    History history = new History();
    List<String> faults = new ArrayList<>();
    try (KvdCluster cluster = new KvdCluster(dir, size, 300, firewall)) {
      cluster.startAll();
      assertThat(cluster.awaitLeader(Duration.ofSeconds(20))).as("a leader is elected").isNotNull();

      AtomicBoolean stop = new AtomicBoolean();
      List<Thread> clients = new ArrayList<>();
      for (int c = 0; c < CLIENTS; c++) {
        int client = c;
        long clientSeed = rnd.nextLong();
        Thread t = new Thread(() -> clientLoop(client, new Random(clientSeed), cluster, history, stop),
            "chaos-client-" + c);
        t.start();
        clients.add(t);
      }
      nemesis(rnd, cluster, faults);
      stop.set(true);
      for (Thread t : clients) {
        t.join(15_000);
      }
      recover(cluster);
      for (KvdCluster.Member m : cluster.members) {
        for (String key : KEYS) {
          finalRead(cluster, m, key, history);
        }
      }
      CheckResult result = new LinearizabilityChecker().withStepBudgetPerKey(20_000_000)
          .check(history.ops(), RegisterModel.casRegister());
      if (!result.isLinearizable()) {
        // kept outside the temp dir, which JUnit deletes
        Path saved = Files.createDirectories(Path.of("target", "chaos-failures")).resolve("seed-" + seed + ".jsonl");
        History.save(history.ops(), saved);
        Files.writeString(saved.resolveSibling("seed-" + seed + ".logs.txt"), cluster.logs());
        fail("seed " + seed + " (" + size + " members, faults " + faults + "): " + result.report()
            + "\nhistory saved to " + saved + "\n" + cluster.logs());
      }
      long acked = history.ops().stream().filter(o -> o.kind() != dev.flotilla.kv.cluster.check.Op.Kind.READ
          && o.outcome() == dev.flotilla.kv.cluster.check.Op.Outcome.OK).count();
      System.out.printf("chaos seed %d, %d members, faults %s: %d ops (%d acknowledged writes), linearizable%n",
          seed, size, faults, history.ops().size(), acked);
      assertThat(acked).as("the cluster took writes during the schedule").isPositive();
      assertConverged(cluster);
    }
  }

  /** Two or three faults, one after the other, each healed before the next; the leader is the favourite target. */
  private static void nemesis(Random rnd, KvdCluster cluster, List<String> faults) throws Exception {
    long end = System.nanoTime() + RUN.toNanos();
    Thread.sleep(500 + rnd.nextInt(500));
    while (System.nanoTime() < end - 1_500_000_000L) {
      KvdCluster.Member leader = cluster.awaitLeader(Duration.ofSeconds(5));
      List<KvdCluster.Member> all = cluster.members;
      KvdCluster.Member target = leader != null && rnd.nextInt(3) > 0 ? leader : all.get(rnd.nextInt(all.size()));
      long hold = 800 + rnd.nextInt(1500);
      switch (rnd.nextInt(6)) {
        case 0, 1 -> {
          faults.add("kill -9 " + target + (target == leader ? " (leader)" : ""));
          target.kill();
          Thread.sleep(hold);
          target.start();
        }
        case 2 -> {
          faults.add("SIGSTOP " + target + (target == leader ? " (leader)" : ""));
          target.pause();
          Thread.sleep(hold);
          target.resume();
        }
        case 3, 4 -> {
          faults.add("isolate " + target + (target == leader ? " (leader)" : ""));
          cluster.isolate(target);
          Thread.sleep(hold);
          cluster.heal();
        }
        default -> {
          // a majority down: no progress until they return, and nothing acknowledged may be lost
          List<KvdCluster.Member> shuffled = new ArrayList<>(all);
          java.util.Collections.shuffle(shuffled, rnd);
          List<KvdCluster.Member> down = shuffled.subList(0, all.size() / 2 + 1);
          faults.add("kill -9 majority " + down);
          for (KvdCluster.Member m : down) {
            m.kill();
          }
          Thread.sleep(hold);
          for (KvdCluster.Member m : down) {
            m.start();
          }
        }
      }
      Thread.sleep(300 + rnd.nextInt(700));
    }
    long left = end - System.nanoTime();
    if (left > 0) {
      Thread.sleep(left / 1_000_000);
    }
  }

  private static void recover(KvdCluster cluster) throws Exception {
    cluster.heal();
    for (KvdCluster.Member m : cluster.members) {
      if (m.paused) {
        m.resume();
      }
      if (!m.running()) {
        m.start();
      }
    }
    for (KvdCluster.Member m : cluster.members) {
      m.awaitUp(KvdCluster.START_TIMEOUT);
    }
    assertThat(cluster.awaitLeader(Duration.ofSeconds(30))).as("a leader after the faults").isNotNull();
  }

  private static void clientLoop(int client, Random rnd, KvdCluster cluster, History history, AtomicBoolean stop) {
    HttpClient http = cluster.httpClientBuilder().connectTimeout(Duration.ofMillis(300)).build();
    String[] lastSeen = new String[KEYS.size()];
    int n = 0;
    while (!stop.get()) {
      KvdCluster.Member m = cluster.members.get(rnd.nextInt(cluster.members.size()));
      int k = rnd.nextInt(KEYS.size());
      String key = KEYS.get(k);
      URI url = m.clientUrl().resolve("/v2/keys/" + key);
      int what = rnd.nextInt(10);
      try {
        if (what < 4) {
          History.Invocation inv = history.invokeRead(client, key);
          var r = send(http, HttpRequest.newBuilder(URI.create(url + "?quorum=true")).GET(), inv, true);
          if (r == null) {
            continue;
          }
          if (r.statusCode() == 200) {
            Matcher v = VALUE.matcher(r.body());
            if (!v.find()) {
              throw new AssertionError("no value in " + r.body());
            }
            lastSeen[k] = v.group(1);
            inv.read(v.group(1));
          } else if (r.statusCode() == 404 && r.body().contains("\"errorCode\":100")) {
            inv.read(null);
          } else {
            inv.discard(); // a failed read tells nothing
          }
        } else {
          String value = "c" + client + "-" + (++n);
          boolean cas = what >= 7 && lastSeen[k] != null;
          History.Invocation inv = cas
              ? history.invokeCas(client, key, lastSeen[k], value)
              : history.invokeWrite(client, key, value);
          String form = "value=" + value + (cas ? "&prevValue=" + URLEncoder.encode(lastSeen[k], StandardCharsets.UTF_8) : "");
          var r = send(http, HttpRequest.newBuilder(url)
              .header("Content-Type", "application/x-www-form-urlencoded")
              .PUT(HttpRequest.BodyPublishers.ofString(form)), inv, false);
          if (r == null) {
            continue;
          }
          if (r.statusCode() == 200 || r.statusCode() == 201) {
            inv.ok();
          } else if (cas && (r.statusCode() == 412 || r.statusCode() == 404)
              && (r.body().contains("\"errorCode\":101") || r.body().contains("\"errorCode\":100"))) {
            inv.fail();
          } else if (r.body().contains("etcdserver: no leader")) {
            // refused before it was appended anywhere: the member knew no leader to give it to
            inv.discard();
            Thread.sleep(50);
          } else {
            inv.unknown(); // a timeout: it may still have been applied
            Thread.sleep(50); // as a client would back off; keeps unknown writes on a key few
          }
        }
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Sends; on an error completes the invocation (discard when surely not sent) and returns null. */
  private static HttpResponse<String> send(HttpClient http, HttpRequest.Builder req, History.Invocation inv,
      boolean read) throws InterruptedException {
    try {
      return http.send(req.timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (ConnectException | HttpConnectTimeoutException e) {
      inv.discard(); // never connected: the request was not sent
      return null;
    } catch (IOException e) {
      if (read) {
        inv.discard();
      } else {
        inv.unknown();
      }
      return null;
    }
  }

  private static void finalRead(KvdCluster cluster, KvdCluster.Member m, String key, History history)
      throws Exception {
    HttpClient http = cluster.httpClientBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      History.Invocation inv = history.invokeRead(1000 + m.index, key);
      try {
        var r = http.send(HttpRequest.newBuilder(m.clientUrl().resolve("/v2/keys/" + key + "?quorum=true"))
            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          Matcher v = VALUE.matcher(r.body());
          assertThat(v.find()).as(r.body()).isTrue();
          inv.read(v.group(1));
          return;
        } else if (r.statusCode() == 404 && r.body().contains("\"errorCode\":100")) {
          inv.read(null);
          return;
        }
        inv.discard();
      } catch (IOException e) {
        inv.discard();
      }
      Thread.sleep(100);
    }
    fail("no final quorum read of " + key + " through " + m + " within 30 s");
  }

  /** Every member ends with the same keys and values (serializable reads, once caught up). */
  private static void assertConverged(KvdCluster cluster) throws Exception {
    HttpClient http = cluster.httpClientBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    List<String> bodies = new ArrayList<>();
    while (System.nanoTime() < deadline) {
      bodies.clear();
      for (KvdCluster.Member m : cluster.members) {
        var r = http.send(HttpRequest.newBuilder(m.clientUrl().resolve("/v2/keys/?recursive=true&sorted=true"))
            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        bodies.add(r.body());
      }
      if (bodies.stream().distinct().count() == 1) {
        return;
      }
      Thread.sleep(100);
    }
    fail("members did not converge: " + bodies);
  }
}
