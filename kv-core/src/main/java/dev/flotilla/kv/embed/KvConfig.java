package dev.flotilla.kv.embed;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Settings of one store member: the same settings as kvd's (etcd's) flags.
 * A port of 0 in a listen URL binds a free port; {@link EmbeddedKv#clientUrls()} tells which.
 */
public record KvConfig(
    String name,
    Path dataDir,
    List<URI> listenClientUrls,
    List<URI> advertiseClientUrls,
    List<URI> listenPeerUrls,
    List<URI> initialAdvertisePeerUrls,
    String initialCluster,
    String initialClusterState,
    String initialClusterToken,
    long maxRequestBytes,
    long snapshotCount,
    long heartbeatIntervalMs,
    long electionTimeoutMs,
    String discovery,
    String discoveryFallback,
    long quotaBackendBytes,
    long watchProgressNotifyIntervalMs,
    int bcryptCost,
    long authTokenTtlSeconds,
    dev.flotilla.kv.tls.TlsSettings clientTls,
    dev.flotilla.kv.tls.TlsSettings peerTls) {

  /** etcd's default backend quota (--quota-backend-bytes 0): 2 GiB. */
  public static final long DEFAULT_QUOTA_BACKEND_BYTES = 2L << 30;

  /** etcd's default for --max-request-bytes: 1.5 MiB. */
  public static final long DEFAULT_MAX_REQUEST_BYTES = 1_572_864L;

  public KvConfig {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dataDir, "dataDir");
    listenClientUrls = List.copyOf(listenClientUrls);
    advertiseClientUrls = List.copyOf(advertiseClientUrls);
    listenPeerUrls = List.copyOf(listenPeerUrls);
    initialAdvertisePeerUrls = List.copyOf(initialAdvertisePeerUrls);
    if (listenClientUrls.isEmpty()) {
      throw new IllegalArgumentException("at least one listen client URL is needed");
    }
    if (!"exit".equals(discoveryFallback) && !"proxy".equals(discoveryFallback)) {
      throw new IllegalArgumentException("--discovery-fallback must be 'exit' or 'proxy', got '" + discoveryFallback + "'");
    }
    if (heartbeatIntervalMs <= 0 || electionTimeoutMs < 2 * heartbeatIntervalMs) {
      throw new IllegalArgumentException("--election-timeout (" + electionTimeoutMs + " ms) must be at least twice"
          + " --heartbeat-interval (" + heartbeatIntervalMs + " ms), which must be positive");
    }
    if (quotaBackendBytes == 0) {
      quotaBackendBytes = DEFAULT_QUOTA_BACKEND_BYTES; // etcd: 0 means the default
    }
    if (watchProgressNotifyIntervalMs <= 0) {
      throw new IllegalArgumentException("the watch progress notify interval must be positive, got "
          + watchProgressNotifyIntervalMs + " ms");
    }
    clientTls = clientTls == null ? dev.flotilla.kv.tls.TlsSettings.none("--") : clientTls;
    peerTls = peerTls == null ? dev.flotilla.kv.tls.TlsSettings.none("--peer-") : peerTls;
    for (URI u : listenClientUrls) {
      requireTlsFor(u, "listen client URL", clientTls);
    }
    for (URI u : listenPeerUrls) {
      requireTlsFor(u, "listen peer URL", peerTls);
    }
    if (maxRequestBytes <= 0) {
      throw new IllegalArgumentException("maxRequestBytes must be positive, got " + maxRequestBytes);
    }
    if (bcryptCost < 4 || bcryptCost > 31) {
      throw new IllegalArgumentException("--bcrypt-cost must be between 4 and 31, got " + bcryptCost);
    }
    if (authTokenTtlSeconds <= 0) {
      throw new IllegalArgumentException("--auth-token-ttl must be positive, got " + authTokenTtlSeconds);
    }
  }

  private static void requireTlsFor(URI url, String what, dev.flotilla.kv.tls.TlsSettings tls) {
    String scheme = url.getScheme();
    if ("https".equals(scheme)) {
      if (!tls.enabled()) {
        throw new IllegalArgumentException(what + " " + url + " is https: give " + tls.flagPrefix() + "cert-file and "
            + tls.flagPrefix() + "key-file");
      }
    } else if (!"http".equals(scheme)) {
      throw new IllegalArgumentException(what + " " + url + ": the scheme must be http or https");
    }
  }

  /** The same settings with another initial cluster (the one discovery found). */
  public KvConfig withInitialCluster(String cluster) {
    return new KvConfig(name, dataDir, listenClientUrls, advertiseClientUrls, listenPeerUrls, initialAdvertisePeerUrls,
        cluster, initialClusterState, initialClusterToken, maxRequestBytes, snapshotCount, heartbeatIntervalMs,
        electionTimeoutMs, discovery, discoveryFallback, quotaBackendBytes, watchProgressNotifyIntervalMs, bcryptCost,
        authTokenTtlSeconds, clientTls, peerTls);
  }

  /** A one-member store on a data dir, serving clients at {@code clientUrl}. */
  public static Builder builder(Path dataDir) {
    return new Builder(dataDir);
  }

  public static final class Builder {
    private String name = "default";
    private final Path dataDir;
    private List<URI> listenClientUrls = List.of(URI.create("http://localhost:2379"));
    private List<URI> advertiseClientUrls = List.of();
    private List<URI> listenPeerUrls = List.of(URI.create("http://localhost:2380"));
    private List<URI> initialAdvertisePeerUrls = List.of();
    private String initialCluster = "";
    private String initialClusterState = "new";
    private String initialClusterToken = "etcd-cluster";
    private long maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES;
    private long snapshotCount = 100_000;
    private long heartbeatIntervalMs = 100;
    private long electionTimeoutMs = 1000;
    private String discovery = "";
    private String discoveryFallback = "proxy";
    private long quotaBackendBytes = DEFAULT_QUOTA_BACKEND_BYTES;
    private long watchProgressNotifyIntervalMs = 600_000;
    private int bcryptCost = 10;
    private long authTokenTtlSeconds = 300;
    private dev.flotilla.kv.tls.TlsSettings clientTls;
    private dev.flotilla.kv.tls.TlsSettings peerTls;

    private Builder(Path dataDir) {
      this.dataDir = dataDir;
    }

    public Builder name(String v) { this.name = v; return this; }
    public Builder listenClientUrls(List<URI> v) { this.listenClientUrls = v; return this; }
    public Builder listenClientUrl(String v) { return listenClientUrls(List.of(URI.create(v))); }
    public Builder advertiseClientUrls(List<URI> v) { this.advertiseClientUrls = v; return this; }
    public Builder listenPeerUrls(List<URI> v) { this.listenPeerUrls = v; return this; }
    public Builder initialAdvertisePeerUrls(List<URI> v) { this.initialAdvertisePeerUrls = v; return this; }
    public Builder initialCluster(String v) { this.initialCluster = v; return this; }
    public Builder initialClusterState(String v) { this.initialClusterState = v; return this; }
    public Builder initialClusterToken(String v) { this.initialClusterToken = v; return this; }
    public Builder maxRequestBytes(long v) { this.maxRequestBytes = v; return this; }
    public Builder snapshotCount(long v) { this.snapshotCount = v; return this; }
    public Builder heartbeatIntervalMs(long v) { this.heartbeatIntervalMs = v; return this; }
    public Builder electionTimeoutMs(long v) { this.electionTimeoutMs = v; return this; }
    public Builder discovery(String v) { this.discovery = v == null ? "" : v; return this; }
    public Builder discoveryFallback(String v) { this.discoveryFallback = v; return this; }
    /** etcd's --quota-backend-bytes: 0 is the default (2 GiB), a negative value no quota. */
    public Builder quotaBackendBytes(long v) { this.quotaBackendBytes = v; return this; }
    /** How often a quiet watcher created with progress_notify hears the revision (etcd: 10 minutes). */
    public Builder watchProgressNotifyIntervalMs(long v) { this.watchProgressNotifyIntervalMs = v; return this; }

    /** etcd's --bcrypt-cost: bcrypt cost of auth passwords (4..31, default 10). */
    public Builder bcryptCost(int v) { this.bcryptCost = v; return this; }
    /** etcd's --auth-token-ttl: seconds a simple token lives after its last use (default 300). */
    public Builder authTokenTtlSeconds(long v) { this.authTokenTtlSeconds = v; return this; }
    /** TLS for the client URLs (https://): etcd's --cert-file, --key-file, --trusted-ca-file, --client-cert-auth. */
    public Builder clientTls(dev.flotilla.kv.tls.TlsSettings v) { this.clientTls = v; return this; }
    /** TLS for the peer URLs: etcd's --peer-cert-file, --peer-key-file, --peer-trusted-ca-file, --peer-client-cert-auth. */
    public Builder peerTls(dev.flotilla.kv.tls.TlsSettings v) { this.peerTls = v; return this; }

    public KvConfig build() {
      return new KvConfig(name, dataDir, listenClientUrls, advertiseClientUrls, listenPeerUrls,
          initialAdvertisePeerUrls, initialCluster, initialClusterState, initialClusterToken,
          maxRequestBytes, snapshotCount, heartbeatIntervalMs, electionTimeoutMs, discovery, discoveryFallback,
          quotaBackendBytes, watchProgressNotifyIntervalMs, bcryptCost, authTokenTtlSeconds, clientTls, peerTls);
    }
  }
}
