package dev.flotilla.kv.server;

import dev.flotilla.kv.embed.KvConfig;
import dev.flotilla.kv.mvcc.MvccStore;
import dev.flotilla.kv.tls.TlsCredentials;
import dev.flotilla.proto.store.MemberAttributes;
import dev.flotilla.proto.store.MemberRecord;
import dev.flotilla.proto.store.StoreCommand;
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
import java.util.concurrent.CompletableFuture;
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

  /** Longest sleep of the expiry thread: a follower looks this often whether it leads now. */
  private static final long IDLE_LOOK_NANOS = 500_000_000L;

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
      boolean leading = false;
      while (running) {
        long now = unixNanos(clock);
        // Both tickers answer with their next deadline, at most 0.5 s ahead (etcd's lessor and
        // v2 TTL sweeps also look every 0.5 s); the thread sleeps until then rather than waking
        // 20 times a second on an idle member (0.2% of a core of an idle one-member kvd).
        if (!commandLog.isLeader()) {
          leading = false;
          LockSupport.parkNanos(IDLE_LOOK_NANOS);
          continue;
        }
        if (!leading) {
          leading = true;
          machine.lessor().promote(now); // keep-alives may have reached only the old leader
        }
        long next = Math.min(ticker.poll(now), leases.poll(now));
        LockSupport.parkNanos(Math.max(1_000_000L, Math.min(next - unixNanos(clock), IDLE_LOOK_NANOS)));
      }
    }, "expiry");
    this.expiryThread.setDaemon(true);
  }

  /** Completes when this member applies its own removal from the cluster: it must stop then. */
  private static final CompletableFuture<Void> NEVER = new CompletableFuture<>();

  public static StoreMember open(KvConfig cfg) throws IOException {
    // once for all the member's loop groups (it resolves the initial cluster's hosts); a bad
    // override fails here, before anything is written to the data dir
    LoopShare loops = LoopShare.forMember(cfg.initialCluster());
    CompletableFuture<Void> removedFromCluster = new CompletableFuture<>();
    Path memberDir = cfg.dataDir().resolve("member");
    boolean localWal = Files.isDirectory(memberDir.resolve("wal"));
    boolean raftDir = Files.isDirectory(memberDir.resolve("raft"));
    Files.createDirectories(memberDir);
    // load the TLS files first: a bad one fails before anything is written to the data dir
    TlsCredentials clientTls = cfg.clientTls().enabled() || cfg.clientTls().trustedCaFile() != null
        ? TlsCredentials.load(cfg.clientTls()) : null;
    TlsCredentials peerTls;
    try {
      peerTls = cfg.peerTls().enabled() ? TlsCredentials.load(cfg.peerTls()) : null;
    } catch (IOException e) {
      if (clientTls != null) {
        clientTls.close();
      }
      throw e;
    }
    boolean peerHttps = cfg.listenPeerUrls().stream().anyMatch(u -> "https".equals(u.getScheme()))
        || cfg.initialAdvertisePeerUrls().stream().anyMatch(u -> "https".equals(u.getScheme()));
    if (peerTls != null && !peerHttps) {
      log.warn("--peer-cert-file is given but the peer URLs are http://: Raft traffic stays plaintext");
      peerTls.close();
      peerTls = null;
    }
    MvccStore store;
    try {
      store = MvccStore.open(memberDir.resolve("store"));
    } catch (IOException | RuntimeException e) {
      closeAll(clientTls, peerTls);
      throw e;
    }
    CommandLog commandLog = null;
    try {
      List<URI> peerUrls = cfg.initialAdvertisePeerUrls().isEmpty()
          ? cfg.listenPeerUrls() : cfg.initialAdvertisePeerUrls();
      long memberId;
      long clusterId;
      boolean replicated;
      List<MemberRecord> newClusterFounders = List.of();
      byte[] savedMember = store.getMeta("member_id");
      if (savedMember != null) {
        memberId = ByteBuffer.wrap(savedMember).getLong();
        clusterId = ByteBuffer.wrap(store.getMeta("cluster_id")).getLong();
        replicated = raftDir;
        log.info("resuming member {} of cluster {} from {} (the --initial-cluster flags are ignored)",
            MemberIdentity.hex(memberId), MemberIdentity.hex(clusterId), cfg.dataDir());
      } else {
        if (localWal || raftDir) {
          throw new IOException("data dir " + cfg.dataDir() + " has a log but no store identity");
        }
        if (!cfg.discovery().isBlank()) {
          cfg = discover(cfg, peerUrls);
        }
        Map<String, List<URI>> cluster = parseInitialCluster(cfg, peerUrls);
        if (!cluster.containsKey(cfg.name())) {
          throw new IllegalArgumentException("--initial-cluster " + cfg.initialCluster()
              + " does not include this member's name " + cfg.name());
        }
        if (!"new".equals(cfg.initialClusterState()) && !"existing".equals(cfg.initialClusterState())) {
          throw new IllegalArgumentException("--initial-cluster-state must be 'new' or 'existing', got '"
              + cfg.initialClusterState() + "'");
        }
        boolean joining = "existing".equals(cfg.initialClusterState());
        replicated = cluster.size() > 1 || joining;
        List<Long> ids = new ArrayList<>();
        List<MemberRecord> founders = new ArrayList<>();
        for (Map.Entry<String, List<URI>> m : cluster.entrySet()) {
          long id = MemberIdentity.memberId(m.getValue(), cfg.initialClusterToken());
          ids.add(id);
          founders.add(MemberRecord.newBuilder().setId(id).setName(m.getKey())
              .addAllPeerUrls(m.getValue().stream().map(URI::toString).toList()).build());
        }
        memberId = MemberIdentity.memberId(cluster.get(cfg.name()), cfg.initialClusterToken());
        clusterId = MemberIdentity.clusterId(ids);
        if (replicated) {
          Files.createDirectories(memberDir.resolve("raft"));
          if (!joining) {
            newClusterFounders = founders;
          }
        }
        store.putMetaDurably("member_id", ByteBuffer.allocate(8).putLong(memberId).array());
        store.putMetaDurably("cluster_id", ByteBuffer.allocate(8).putLong(clusterId).array());
        store.putMetaDurably("cluster_token", cfg.initialClusterToken().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        log.info("starting new member {} of cluster {} in {} ({} members{})", MemberIdentity.hex(memberId),
            MemberIdentity.hex(clusterId), cfg.dataDir(), cluster.size(), joining ? ", joining" : "");
      }
      var identity = new MemberIdentity(cfg.name(), memberId, clusterId, peerUrls);
      var machine = new StoreStateMachine(store, Clock.systemUTC());
      var metrics = new StoreMetrics();
      if (replicated) {
        commandLog = RaftMember.start(cfg, identity, memberDir.resolve("raft"), machine, metrics,
            newClusterFounders, () -> removedFromCluster.complete(null), peerTls, loops.count());
      } else {
        commandLog = LocalLog.open(memberDir.resolve("wal"), machine, cfg.snapshotCount(), metrics);
      }
      var member = new StoreMember(identity, store, machine, commandLog, machine.clock(), metrics);
      member.removed = removedFromCluster;
      member.memberDir = memberDir;
      member.clientTls = clientTls;
      member.loops = loops;
      member.peerTls = peerTls;
      member.expiryThread.start();
      return member;
    } catch (IOException | RuntimeException e) {
      if (commandLog != null) {
        commandLog.close();
      }
      store.close();
      closeAll(clientTls, peerTls);
      throw e;
    }
  }

  private static void closeAll(TlsCredentials... creds) {
    for (TlsCredentials c : creds) {
      if (c != null) {
        c.close();
      }
    }
  }

  private TlsCredentials clientTls;
  private TlsCredentials peerTls;
  private LoopShare loops;

  /** How many event loops each of the member's loop groups has (client port, gRPC, Raft peers). */
  public LoopShare loops() {
    return loops;
  }

  /**
   * The member's client-side TLS (its --cert-file, --key-file, --trusted-ca-file): what it serves on
   * https client URLs, and what it presents when it calls another member's client URL (the leader's,
   * to relay a request). Null when none is configured.
   */
  public TlsCredentials clientTls() {
    return clientTls;
  }

  /** Finds the initial cluster through the discovery service (new members only). */
  private static KvConfig discover(KvConfig cfg, List<URI> peerUrls) throws IOException {
    List<String> self = new ArrayList<>();
    peerUrls.forEach(u -> self.add(cfg.name() + "=" + u));
    long id = MemberIdentity.memberId(peerUrls, cfg.initialClusterToken());
    try {
      String cluster = new Discovery(cfg.discovery()).join(id, String.join(",", self), java.time.Duration.ofMinutes(5));
      return cfg.withInitialCluster(cluster);
    } catch (Discovery.DiscoveryException e) {
      if ("proxy".equals(cfg.discoveryFallback())) {
        throw new IOException(e.getMessage() + "; --discovery-fallback proxy: kvd has no proxy mode, so it exits"
            + " (use --discovery-fallback exit to say so)", e);
      }
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted during discovery", e);
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

  private CompletableFuture<Void> removed = NEVER;
  private Path memberDir;

  /** {@code <data-dir>/member}: the store, the logs, and temporary files such as snapshots being sent. */
  public Path memberDir() {
    return memberDir;
  }

  /** Completes when this member has been removed from its cluster (then close it, as etcd stops). */
  public CompletableFuture<Void> removedFromCluster() {
    return removed;
  }

  /** The --initial-cluster-token this member was created with: new members' IDs are derived from it. */
  public String clusterToken() {
    byte[] t = store.getMeta("cluster_token");
    return t == null ? "etcd-cluster" : new String(t, java.nio.charset.StandardCharsets.UTF_8);
  }

  /** The Raft log of a clustered member; null for a single-node store. */
  public ReplicatedLog replicatedLog() {
    return commandLog instanceof ReplicatedLog r ? r : null;
  }

  public MemberIdentity identity() {
    return identity;
  }

  /** The client URLs this member advertises (known once its listeners are bound). */
  public List<URI> clientUrls() {
    return clientUrls;
  }

  /**
   * Sets the client URLs this member advertises; in a cluster it also publishes them (with its
   * name) through the log, retrying until that is applied, as etcd publishes its attributes.
   */
  public void advertiseClientUrls(List<URI> urls) {
    this.clientUrls = List.copyOf(urls);
    if (commandLog instanceof ReplicatedLog) {
      Thread t = new Thread(this::publishAttributes, "publish-attributes");
      t.setDaemon(true);
      t.start();
    }
  }

  private void publishAttributes() {
    byte[] cmd = StoreCommand.newBuilder().setMemberAttributes(MemberAttributes.newBuilder()
        .setId(identity.memberId()).setName(identity.name())
        .addAllClientUrls(clientUrls.stream().map(URI::toString).toList())).build().toByteArray();
    while (running) {
      try {
        commandLog.propose(cmd).get();
        log.info("published name {} and client URLs {} to the cluster", identity.name(), clientUrls);
        return;
      } catch (InterruptedException e) {
        return;
      } catch (java.util.concurrent.ExecutionException e) {
        LockSupport.parkNanos(200_000_000L); // no leader yet: try again
      }
    }
  }

  /** The cluster's members; a single-node store is its own one member. */
  public List<MemberRecord> members() {
    List<MemberRecord> list = machine.members().list();
    if (!list.isEmpty()) {
      return list;
    }
    return List.of(MemberRecord.newBuilder().setId(identity.memberId()).setName(identity.name())
        .addAllPeerUrls(identity.peerUrls().stream().map(URI::toString).toList())
        .addAllClientUrls(clientUrls.stream().map(URI::toString).toList()).build());
  }

  /** The leader's member ID, 0 when this member knows none. */
  public long leaderId() {
    return commandLog instanceof ReplicatedLog ? commandLog.leader() : identity.memberId();
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
    closeAll(clientTls, peerTls);
  }
}
