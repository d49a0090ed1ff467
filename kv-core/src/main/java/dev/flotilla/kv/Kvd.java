package dev.flotilla.kv;

import dev.flotilla.kv.embed.EmbeddedKv;
import dev.flotilla.kv.embed.KvConfig;
import dev.flotilla.kv.tls.TlsSettings;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/kvd}: a store member, taking etcd's flags (and etcd's ETCD_* environment
 * variables as defaults). Restarted on an existing data dir it resumes from it.
 */
@Command(name = "kvd", mixinStandardHelpOptions = true,
    versionProvider = Kvd.Version.class,
    subcommands = Kvd.SnapshotCommand.class,
    description = "Flotilla's key-value store member: etcd's v2 keys API on a Raft-ready MVCC store.")
public final class Kvd implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(Kvd.class);

  @Option(names = "--name", defaultValue = "${env:ETCD_NAME:-default}",
      description = "Human-readable name for this member (default: ${DEFAULT-VALUE}).")
  String name;

  @Option(names = "--data-dir", defaultValue = "${env:ETCD_DATA_DIR}",
      description = "Path to the data directory (default: <name>.etcd).")
  Path dataDir;

  @Option(names = "--listen-client-urls",
      defaultValue = "${env:ETCD_LISTEN_CLIENT_URLS:-http://localhost:2379}",
      description = "Comma-separated URLs to listen on for client traffic (default: ${DEFAULT-VALUE}).")
  String listenClientUrls;

  @Option(names = "--advertise-client-urls",
      defaultValue = "${env:ETCD_ADVERTISE_CLIENT_URLS:-}",
      description = "Comma-separated client URLs to advertise (default: the listen URLs).")
  String advertiseClientUrls;

  @Option(names = "--listen-peer-urls",
      defaultValue = "${env:ETCD_LISTEN_PEER_URLS:-http://localhost:2380}",
      description = "Comma-separated URLs to listen on for peer traffic (default: ${DEFAULT-VALUE}).")
  String listenPeerUrls;

  @Option(names = "--initial-advertise-peer-urls",
      defaultValue = "${env:ETCD_INITIAL_ADVERTISE_PEER_URLS:-http://localhost:2380}",
      description = "This member's peer URLs to advertise to the cluster (default: ${DEFAULT-VALUE}).")
  String initialAdvertisePeerUrls;

  @Option(names = "--initial-cluster",
      defaultValue = "${env:ETCD_INITIAL_CLUSTER:-}",
      description = "Initial cluster configuration for bootstrapping: name=peerURL,... "
          + "(default: <name>=<initial-advertise-peer-urls>).")
  String initialCluster;

  @Option(names = "--initial-cluster-state",
      defaultValue = "${env:ETCD_INITIAL_CLUSTER_STATE:-new}",
      description = "'new' or 'existing' (default: ${DEFAULT-VALUE}).")
  String initialClusterState;

  @Option(names = "--initial-cluster-token",
      defaultValue = "${env:ETCD_INITIAL_CLUSTER_TOKEN:-etcd-cluster}",
      description = "Initial cluster token, part of the member and cluster IDs (default: ${DEFAULT-VALUE}).")
  String initialClusterToken;

  @Option(names = "--max-request-bytes",
      defaultValue = "${env:ETCD_MAX_REQUEST_BYTES:-1572864}",
      description = "Maximum client request size in bytes (default: ${DEFAULT-VALUE}).")
  long maxRequestBytes;

  @Option(names = "--snapshot-count",
      defaultValue = "${env:ETCD_SNAPSHOT_COUNT:-100000}",
      description = "Applied entries between store checkpoints that let old WAL segments go "
          + "(default: ${DEFAULT-VALUE}).")
  long snapshotCount;

  @Option(names = "--heartbeat-interval",
      defaultValue = "${env:ETCD_HEARTBEAT_INTERVAL:-100}",
      description = "Time (in milliseconds) of a heartbeat interval (default: ${DEFAULT-VALUE}).")
  long heartbeatInterval;

  @Option(names = "--election-timeout",
      defaultValue = "${env:ETCD_ELECTION_TIMEOUT:-1000}",
      description = "Time (in milliseconds) for an election to timeout (default: ${DEFAULT-VALUE}).")
  long electionTimeout;

  @Option(names = "--discovery", defaultValue = "${env:ETCD_DISCOVERY}",
      description = "Discovery URL used to bootstrap the cluster.")
  String discovery;

  @Option(names = "--discovery-fallback", defaultValue = "${env:ETCD_DISCOVERY_FALLBACK:-proxy}",
      description = "Expected behavior ('exit' or 'proxy') when discovery services fails. "
          + "\"proxy\" supports v2 API only (default: ${DEFAULT-VALUE}).")
  String discoveryFallback;

  @Option(names = "--quota-backend-bytes",
      defaultValue = "${env:ETCD_QUOTA_BACKEND_BYTES:-0}",
      description = "Raise the NOSPACE alarm and refuse v3 writes when the store would pass this size "
          + "(0: etcd's default, 2 GiB; negative: no quota).")
  long quotaBackendBytes;

  @Option(names = "--experimental-watch-progress-notify-interval",
      defaultValue = "${env:ETCD_EXPERIMENTAL_WATCH_PROGRESS_NOTIFY_INTERVAL:-10m}",
      description = "How often a quiet watcher created with progress_notify hears the current revision, "
          + "as a Go duration like 10m or 500ms (default: ${DEFAULT-VALUE}; etcd 3.5's flag).")
  String watchProgressNotifyInterval;

  @Option(names = "--auth-token", defaultValue = "${env:ETCD_AUTH_TOKEN:-simple}",
      description = "Auth token type; kvd has etcd's 'simple' tokens only (default: ${DEFAULT-VALUE}).")
  String authToken;

  @Option(names = "--auth-token-ttl", defaultValue = "${env:ETCD_AUTH_TOKEN_TTL:-300}",
      description = "Seconds a simple auth token stays valid after its last use (default: ${DEFAULT-VALUE}).")
  long authTokenTtl;

  @Option(names = "--bcrypt-cost", defaultValue = "${env:ETCD_BCRYPT_COST:-10}",
      description = "bcrypt cost of auth passwords, 4..31 (default: ${DEFAULT-VALUE}).")
  int bcryptCost;

  @Option(names = "--cert-file", defaultValue = "${env:ETCD_CERT_FILE}",
      description = "Path to the client server TLS cert file (PEM; served on https:// client URLs).")
  Path certFile;

  @Option(names = "--key-file", defaultValue = "${env:ETCD_KEY_FILE}",
      description = "Path to the client server TLS key file (PEM, PKCS#8).")
  Path keyFile;

  @Option(names = "--trusted-ca-file", defaultValue = "${env:ETCD_TRUSTED_CA_FILE}",
      description = "Path to the client server TLS trusted CA cert file (PEM).")
  Path trustedCaFile;

  @Option(names = "--client-cert-auth", arity = "0..1", defaultValue = "${env:ETCD_CLIENT_CERT_AUTH:-false}",
      description = "Enable client cert authentication (a client needs a certificate signed by --trusted-ca-file).")
  boolean clientCertAuth;

  @Option(names = "--peer-cert-file", defaultValue = "${env:ETCD_PEER_CERT_FILE}",
      description = "Path to the peer server TLS cert file (PEM; used on https:// peer URLs, both ways).")
  Path peerCertFile;

  @Option(names = "--peer-key-file", defaultValue = "${env:ETCD_PEER_KEY_FILE}",
      description = "Path to the peer server TLS key file (PEM, PKCS#8).")
  Path peerKeyFile;

  @Option(names = "--peer-trusted-ca-file", defaultValue = "${env:ETCD_PEER_TRUSTED_CA_FILE}",
      description = "Path to the peer server TLS trusted CA file (PEM).")
  Path peerTrustedCaFile;

  @Option(names = "--peer-client-cert-auth", arity = "0..1",
      defaultValue = "${env:ETCD_PEER_CLIENT_CERT_AUTH:-false}",
      description = "Enable peer client cert authentication (a peer needs a certificate signed by --peer-trusted-ca-file).")
  boolean peerClientCertAuth;

  @Option(names = "--enable-v2", arity = "0..1", defaultValue = "true",
      description = "Accepted for etcd compatibility; the v2 API is always served.")
  boolean enableV2;

  public static void main(String[] args) {
    int code = commandLine().execute(goStyleFlags(args));
    if (code != 0) {
      System.exit(code);
    }
  }

  /** kvd's command line: a failure prints "kvd: <what failed>" and exits 1. */
  public static CommandLine commandLine() {
    return new CommandLine(new Kvd())
        .setUnmatchedOptionsArePositionalParams(false)
        .setExecutionExceptionHandler((e, cmd, parsed) -> {
          cmd.getErr().println("kvd: " + e.getMessage());
          return 1;
        });
  }

  @Override
  public Integer call() throws Exception {
    KvConfig cfg = KvConfig.builder(dataDir != null ? dataDir : Path.of(name + ".etcd"))
        .name(name)
        .listenClientUrls(urls(listenClientUrls, "--listen-client-urls"))
        .advertiseClientUrls(urls(advertiseClientUrls, "--advertise-client-urls"))
        .listenPeerUrls(urls(listenPeerUrls, "--listen-peer-urls"))
        .initialAdvertisePeerUrls(urls(initialAdvertisePeerUrls, "--initial-advertise-peer-urls"))
        .initialCluster(initialCluster)
        .initialClusterState(initialClusterState)
        .initialClusterToken(initialClusterToken)
        .maxRequestBytes(maxRequestBytes)
        .snapshotCount(snapshotCount)
        .heartbeatIntervalMs(heartbeatInterval)
        .electionTimeoutMs(electionTimeout)
        .discovery(discovery)
        .discoveryFallback(discoveryFallback)
        .quotaBackendBytes(quotaBackendBytes)
        .watchProgressNotifyIntervalMs(goDurationMs(watchProgressNotifyInterval,
            "--experimental-watch-progress-notify-interval"))
        .bcryptCost(bcryptCost)
        .authTokenTtlSeconds(authTokenTtl)
        .clientTls(TlsSettings.client(certFile, keyFile, trustedCaFile, clientCertAuth))
        .peerTls(TlsSettings.peer(peerCertFile, peerKeyFile, peerTrustedCaFile, peerClientCertAuth))
        .build();
    if (!authToken.equals("simple")) {
      throw new IllegalArgumentException("--auth-token '" + authToken + "' is not supported: kvd has etcd's simple"
          + " tokens only (--auth-token simple)");
    }
    EmbeddedKv kv = EmbeddedKv.start(cfg);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("shutting down");
      kv.close();
      stopped.countDown();
    }, "shutdown"));
    log.info("ready to serve client requests on {}", kv.clientUrls());
    // as etcd, stop 10 heartbeats after applying our own removal, so that a removed leader still
    // answers the request that removed it and its followers hear of the commit
    kv.removedFromCluster().thenRunAsync(() -> {
      log.warn("this member was removed from the cluster; exiting");
      System.exit(0); // the shutdown hook closes the member
    }, java.util.concurrent.CompletableFuture.delayedExecutor(10 * heartbeatInterval,
        java.util.concurrent.TimeUnit.MILLISECONDS));
    stopped.await();
    return 0;
  }

  /** etcd (Go's flag package) also takes "-name value": accept it as "--name value". */
  static String[] goStyleFlags(String[] args) {
    String[] out = args.clone();
    for (int i = 0; i < out.length; i++) {
      String a = out[i];
      if (a.length() > 2 && a.charAt(0) == '-' && a.charAt(1) != '-' && Character.isLetter(a.charAt(1))
          && (a.indexOf('-', 1) > 0 || a.length() > 3)) {
        out[i] = "-" + a;
      }
    }
    return out;
  }

  /** A Go duration made of number-unit parts (h, m, s, ms), e.g. "10m", "1m30s", "500ms", in milliseconds. */
  static long goDurationMs(String text, String flag) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)(ms|h|m|s)").matcher(text);
    long total = 0;
    int end = 0;
    while (m.find() && m.start() == end) {
      long n = Long.parseLong(m.group(1));
      total += switch (m.group(2)) {
        case "h" -> n * 3_600_000L;
        case "m" -> n * 60_000L;
        case "s" -> n * 1_000L;
        default -> n;
      };
      end = m.end();
    }
    if (end == 0 || end != text.length()) {
      throw new IllegalArgumentException(flag + ": '" + text + "' is not a duration like 10m, 30s or 500ms");
    }
    return total;
  }

  static List<URI> urls(String csv, String flag) {
    List<URI> out = new ArrayList<>();
    if (csv == null || csv.isBlank()) {
      return out;
    }
    for (String s : csv.split(",")) {
      try {
        URI u = new URI(s.trim());
        if (u.getScheme() == null || u.getHost() == null) {
          throw new IllegalArgumentException(flag + ": '" + s + "' is not a URL like http://127.0.0.1:2379");
        }
        out.add(u);
      } catch (java.net.URISyntaxException e) {
        throw new IllegalArgumentException(flag + ": '" + s + "' is not a URL: " + e.getMessage());
      }
    }
    return out;
  }

  /**
   * {@code kvd snapshot restore <file> --data-dir <dir>}: the way back from {@code etcdctl snapshot
   * save} taken from a kvd (etcdctl's own restore reads only etcd's bbolt files). A separate offline
   * step, as etcd's: it makes a new data dir, then each member starts on its own restored dir with
   * its usual flags (a new cluster with --initial-cluster, or a single node), so a start never
   * depends on whether a restore flag is still on the command line after a restart.
   */
  @Command(name = "snapshot", mixinStandardHelpOptions = true, subcommands = RestoreCommand.class,
      description = "Work with backups taken with etcdctl snapshot save from a kvd.")
  static final class SnapshotCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand: kvd snapshot restore");
    }
  }

  @Command(name = "restore", mixinStandardHelpOptions = true,
      description = "Create a new data dir from a kvd snapshot file (checks its SHA-256 first).")
  static final class RestoreCommand implements Callable<Integer> {
    @CommandLine.Parameters(index = "0", paramLabel = "<file>", description = "The file etcdctl snapshot save wrote.")
    Path file;

    @Option(names = "--data-dir", required = true, description = "The new member's data dir (must not hold a member yet).")
    Path dataDir;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      long revision = dev.flotilla.kv.server.StoreBackup.restore(file, dataDir);
      spec.commandLine().getOut().println("restored " + file + " (revision " + revision + ") into " + dataDir
          + "; start kvd with --data-dir " + dataDir + " and this member's flags");
      return 0;
    }
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Kvd.class.getPackage().getImplementationVersion();
      return new String[] {"kvd (Flotilla) " + (v == null ? "0.1.0-SNAPSHOT" : v),
          "etcd API: 3.4 (v2 keys)"};
    }
  }
}
