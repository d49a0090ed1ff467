package dev.flotilla.kv.server;

import dev.flotilla.kv.embed.KvConfig;
import dev.flotilla.kv.mvcc.MvccStore;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One store member: the MVCC store, its state machine, its log and the TTL ticker, laid out
 * in the data dir as etcd lays out its own ({@code member/wal}, {@code member/store}).
 * Restarted on an existing data dir it resumes, ignoring the initial-cluster settings.
 */
public final class StoreMember implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StoreMember.class);

  private final MemberIdentity identity;
  private final MvccStore store;
  private final StoreStateMachine machine;
  private final CommandLog commandLog;
  private final Clock clock;
  private final Thread expiryThread;
  private volatile boolean running = true;
  private final long startedAtMillis = System.currentTimeMillis();
  private volatile List<URI> clientUrls = List.of();

  private final StoreMetrics metrics;

  private StoreMember(MemberIdentity identity, MvccStore store, StoreStateMachine machine,
      CommandLog commandLog, Clock clock, StoreMetrics metrics) {
    this.identity = identity;
    this.metrics = metrics;
    this.store = store;
    this.machine = machine;
    this.commandLog = commandLog;
    this.clock = clock;
    ExpiryTicker ticker = new ExpiryTicker(commandLog, store::nextExpiry);
    LeaseTicker leases = new LeaseTicker(commandLog, machine.lessor());
    this.expiryThread = new Thread(() -> {
      while (running) {
        long now = unixNanos(clock);
        long next = Math.min(ticker.poll(now), leases.poll(now));
        LockSupport.parkNanos(Math.max(1_000_000L, next - unixNanos(clock)));
      }
    }, "expiry");
    this.expiryThread.setDaemon(true);
  }

  public static StoreMember open(KvConfig cfg) throws IOException {
    Path memberDir = cfg.dataDir().resolve("member");
    boolean existing = Files.isDirectory(memberDir.resolve("wal"));
    Files.createDirectories(memberDir);
    MvccStore store = MvccStore.open(memberDir.resolve("store"));
    try {
      List<URI> peerUrls = cfg.initialAdvertisePeerUrls().isEmpty()
          ? cfg.listenPeerUrls() : cfg.initialAdvertisePeerUrls();
      long memberId;
      long clusterId;
      byte[] savedMember = store.getMeta("member_id");
      if (savedMember != null) {
        memberId = ByteBuffer.wrap(savedMember).getLong();
        clusterId = ByteBuffer.wrap(store.getMeta("cluster_id")).getLong();
        log.info("resuming member {} of cluster {} from {}", MemberIdentity.hex(memberId),
            MemberIdentity.hex(clusterId), cfg.dataDir());
      } else {
        if (existing) {
          throw new IOException("data dir " + cfg.dataDir() + " has a WAL but no store identity");
        }
        Map<String, List<URI>> cluster = parseInitialCluster(cfg, peerUrls);
        if (!cluster.containsKey(cfg.name())) {
          throw new IllegalArgumentException("--initial-cluster " + cfg.initialCluster()
              + " does not include this member's name " + cfg.name());
        }
        if (cluster.size() > 1) {
          throw new IllegalArgumentException("--initial-cluster names " + cluster.size()
              + " members; this kvd runs single-member clusters only until replication lands");
        }
        if (!"new".equals(cfg.initialClusterState())) {
          throw new IllegalArgumentException("--initial-cluster-state " + cfg.initialClusterState()
              + " needs an existing cluster to join; a single member starts with 'new'");
        }
        List<Long> ids = new ArrayList<>();
        for (List<URI> urls : cluster.values()) {
          ids.add(MemberIdentity.memberId(urls, cfg.initialClusterToken()));
        }
        memberId = MemberIdentity.memberId(cluster.get(cfg.name()), cfg.initialClusterToken());
        clusterId = MemberIdentity.clusterId(ids);
        store.putMetaDurably("member_id", ByteBuffer.allocate(8).putLong(memberId).array());
        store.putMetaDurably("cluster_id", ByteBuffer.allocate(8).putLong(clusterId).array());
        log.info("starting new member {} of cluster {} in {}", MemberIdentity.hex(memberId),
            MemberIdentity.hex(clusterId), cfg.dataDir());
      }
      var identity = new MemberIdentity(cfg.name(), memberId, clusterId, peerUrls);
      var machine = new StoreStateMachine(store, Clock.systemUTC());
      var metrics = new StoreMetrics();
      var commandLog = LocalLog.open(memberDir.resolve("wal"), machine, cfg.snapshotCount(), metrics);
      var member = new StoreMember(identity, store, machine, commandLog, machine.clock(), metrics);
      member.expiryThread.start();
      return member;
    } catch (IOException | RuntimeException e) {
      store.close();
      throw e;
    }
  }

  /** etcd's --initial-cluster "name=url,name=url2,..." (a name may repeat, one URL each). */
  static Map<String, List<URI>> parseInitialCluster(KvConfig cfg, List<URI> peerUrls) {
    Map<String, List<URI>> out = new LinkedHashMap<>();
    if (cfg.initialCluster().isBlank()) {
      out.put(cfg.name(), peerUrls);
      return out;
    }
    for (String part : cfg.initialCluster().split(",")) {
      int eq = part.indexOf('=');
      if (eq <= 0 || eq == part.length() - 1) {
        throw new IllegalArgumentException("--initial-cluster entry '" + part
            + "' is not name=peerURL");
      }
      out.computeIfAbsent(part.substring(0, eq).trim(), k -> new ArrayList<>())
          .add(URI.create(part.substring(eq + 1).trim()));
    }
    return out;
  }

  public MemberIdentity identity() {
    return identity;
  }

  /** The client URLs this member advertises (known once its listeners are bound). */
  public List<URI> clientUrls() {
    return clientUrls;
  }

  public void advertiseClientUrls(List<URI> urls) {
    this.clientUrls = List.copyOf(urls);
  }

  public StoreStateMachine machine() {
    return machine;
  }

  public MvccStore store() {
    return store;
  }

  public CommandLog log() {
    return commandLog;
  }

  public StoreMetrics metrics() {
    return metrics;
  }

  /** The member's wall clock in Unix nanoseconds: what TTLs and leases count from. */
  public long nowNanos() {
    return unixNanos(clock);
  }

  public static long unixNanos(Clock clock) {
    var i = clock.instant();
    return i.getEpochSecond() * 1_000_000_000L + i.getNano();
  }

  public Clock clock() {
    return clock;
  }

  public long startedAtMillis() {
    return startedAtMillis;
  }

  @Override
  public void close() {
    running = false;
    expiryThread.interrupt();
    commandLog.close();
    store.close();
  }
}
