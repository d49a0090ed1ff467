package dev.flotilla.kv.cluster;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import dev.flotilla.kv.tls.TestPki;
import dev.flotilla.kv.tls.TlsCredentials;
import dev.flotilla.kv.tls.TlsSettings;

/**
 * A kvd cluster of separate JVM processes on this machine, member {@code i} on its own loopback
 * address {@code 127.0.0.(20+i)} (peers connect from their own address too), so that the test can
 * kill -9, pause (SIGSTOP) and cut off any member. The cluster owns its processes: {@link #close}
 * kills every one and removes any firewall rules. Other modules' end-to-end tests use the public part:
 * {@link #KvdCluster(Path, int)}, {@link #startAll}, {@link #awaitLeader}, {@link #clientUrls}, {@link #close}.
 *
 * <p>With TLS ({@link #KvdCluster(Path, int, TestPki)}, or any cluster when the system property
 * {@code flotilla.test.tls} is true, e.g. {@code -Dflotilla.test.tls=true} for the chaos suite) every
 * member serves https client and peer URLs with its own certificate from a test CA, and requires
 * client certificates on both ({@code --client-cert-auth}, {@code --peer-client-cert-auth}); the
 * cluster's own HTTP clients ({@link #httpClientBuilder}) present the {@code client} certificate.
 */
public final class KvdCluster implements AutoCloseable {
  private static final Pattern LEADER = Pattern.compile("\"leader\":\"([0-9a-f]*)\"");
  private static final Pattern ID = Pattern.compile("\"id\":\"([0-9a-f]+)\"");

  /** One member: its fixed addresses and command line, and its process while it runs. */
  public final class Member {
    final int index;
    final String name;
    final String host;
    final int clientPort;
    final int peerPort;
    final Path dataDir;
    Process process;
    boolean paused;
    /** "new" for founders; "existing" for a member added later, with the cluster it joined. */
    String clusterState = "new";
    String joinCluster;
    /** Set: the member finds its cluster through this discovery URL instead of --initial-cluster. */
    String discovery;
    String discoveryFallback = "exit";
    String id;
    int starts;
    /** With TLS: the certificate this member serves and presents to its peers. */
    TestPki.Issued cert;
    /** With TLS: the certificate for the peer side when it differs from {@link #cert} (a bad one, in tests). */
    TestPki.Issued peerCert;

    Member(int index, Path root) throws IOException {
      this.index = index;
      this.name = "m" + index;
      this.host = "127.0.0." + (20 + index);
      this.clientPort = freePort(host);
      this.peerPort = freePort(host);
      this.dataDir = root.resolve(name);
    }

    URI clientUrl() {
      return URI.create(scheme() + "://" + host + ":" + clientPort);
    }

    String peerUrl() {
      return scheme() + "://" + host + ":" + peerPort;
    }

    boolean running() {
      return process != null && process.isAlive();
    }

    Path log() {
      return root.resolve(name + ".log." + starts);
    }

    /** Starts the member with its original command line (a restart ignores the initial flags). */
    void start() throws IOException {
      if (running()) {
        throw new IllegalStateException(name + " is running");
      }
      starts++;
      List<String> cmd = new ArrayList<>(List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx512m",
          "-cp", System.getProperty("java.class.path"),
          "-Dlogback.configurationFile=logback.xml",
          "dev.flotilla.kv.Kvd",
          "--name", name,
          "--data-dir", dataDir.toString(),
          "--listen-client-urls", clientUrl().toString(),
          "--advertise-client-urls", clientUrl().toString(),
          "--listen-peer-urls", peerUrl(),
          "--initial-advertise-peer-urls", peerUrl(),
          "--initial-cluster-token", "chaos",
          "--heartbeat-interval", "50",
          "--election-timeout", "500",
          "--snapshot-count", Long.toString(snapshotCount)));
      if (pki != null) {
        if (cert == null) {
          try {
            cert = pki.issue(name);
          } catch (Exception e) {
            throw new IOException("cannot issue a certificate for " + name + ": " + e, e);
          }
        }
        cmd.addAll(List.of("--cert-file", cert.certFile(), "--key-file", cert.keyFile(),
            "--trusted-ca-file", pki.caFile().toString(), "--client-cert-auth",
            "--peer-cert-file", (peerCert != null ? peerCert : cert).certFile(),
            "--peer-key-file", (peerCert != null ? peerCert : cert).keyFile(),
            "--peer-trusted-ca-file", pki.caFile().toString(), "--peer-client-cert-auth"));
      }
      if (discovery != null) {
        cmd.addAll(List.of("--discovery", discovery, "--discovery-fallback", discoveryFallback));
      } else {
        cmd.addAll(List.of("--initial-cluster", joinCluster != null ? joinCluster : initialCluster(),
            "--initial-cluster-state", clusterState));
      }
      process = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log().toFile())).start();
      paused = false;
    }

    /** SIGKILL: no shutdown hook, no flush. */
    void kill() throws IOException, InterruptedException {
      if (process != null && process.isAlive()) {
        if (paused) {
          signal("CONT");
        }
        process.destroyForcibly();
        process.waitFor();
      }
      paused = false;
    }

    void pause() throws IOException, InterruptedException {
      signal("STOP");
      paused = true;
    }

    void resume() throws IOException, InterruptedException {
      signal("CONT");
      paused = false;
    }

    private void signal(String sig) throws IOException, InterruptedException {
      Process p = new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid())).inheritIO().start();
      if (p.waitFor() != 0) {
        throw new IOException("kill -" + sig + " " + process.pid() + " failed");
      }
    }

    /** Waits until the member answers HTTP; fails with its log when it died. */
    void awaitUp(Duration timeout) throws IOException, InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        if (!running()) {
          throw new IOException(name + " exited with " + process.exitValue() + ":\n" + Files.readString(log()));
        }
        try {
          var r = http.send(HttpRequest.newBuilder(clientUrl().resolve("/v2/stats/self"))
              .timeout(Duration.ofMillis(500)).build(), HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() == 200) {
            Matcher m = ID.matcher(r.body());
            if (m.find()) {
              id = m.group(1);
            }
            return;
          }
        } catch (IOException e) {
          // not listening yet
        }
        Thread.sleep(50);
      }
      throw new IOException(name + " did not answer within " + timeout + ":\n" + Files.readString(log()));
    }

    /** The leader this member names, or null (down, paused, or no leader known). */
    String leaderSeen() {
      if (!running() || paused) {
        return null;
      }
      try {
        var r = http.send(HttpRequest.newBuilder(clientUrl().resolve("/v2/stats/self"))
            .timeout(Duration.ofMillis(500)).build(), HttpResponse.BodyHandlers.ofString());
        Matcher m = LEADER.matcher(r.body());
        return r.statusCode() == 200 && m.find() && !m.group(1).isEmpty() ? m.group(1) : null;
      } catch (IOException | InterruptedException e) {
        return null;
      }
    }

    @Override
    public String toString() {
      return name + "(" + host + ")";
    }
  }

  private final Path root;
  private final long snapshotCount;
  final List<Member> members = new ArrayList<>();
  private final HttpClient http;
  private final Firewall firewall;
  /** Null: plaintext URLs. */
  private final TestPki pki;
  private final TestPki.Issued clientCert;

  String scheme() {
    return pki == null ? "http" : "https";
  }

  /** The test CA and certificates of a TLS cluster, null for a plaintext one. */
  public TestPki pki() {
    return pki;
  }

  /** With TLS: the certificate clients of this cluster present ({@code --cert}), signed by {@link #pki}'s CA. */
  public TestPki.Issued clientCert() {
    return clientCert;
  }

  /** An HTTP client builder for the members' client URLs (with the client certificate when TLS is on). */
  public HttpClient.Builder httpClientBuilder() {
    HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1);
    if (pki != null) {
      try (TlsCredentials creds = TlsCredentials.load(TlsSettings.tool(pki.caFile(), clientCert.cert(),
          clientCert.key()))) {
        b.sslContext(creds.jdkClient());
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    return b;
  }

  /** A TLS cluster: https client and peer URLs, client certificates required on both, from {@code pki}. */
  public KvdCluster(Path root, int size, TestPki pki) throws IOException {
    this(Files.createDirectories(root), size, 10_000, null, null, pki);
  }

  /** A cluster of {@code size} members under {@code root}, without fault injection. */
  public KvdCluster(Path root, int size) throws IOException {
    this(Files.createDirectories(root), size, 10_000, null);
  }

  KvdCluster(Path root, int size, long snapshotCount, Firewall firewall) throws IOException {
    this(root, size, snapshotCount, firewall, null);
  }

  /** A cluster whose members find each other through {@code discovery} (null: by --initial-cluster). */
  KvdCluster(Path root, int size, long snapshotCount, Firewall firewall, String discovery) throws IOException {
    this(root, size, snapshotCount, firewall, discovery, Boolean.getBoolean("flotilla.test.tls") ? newPki(root) : null);
  }

  private static TestPki newPki(Path root) throws IOException {
    try {
      return TestPki.create(root.resolve("pki"));
    } catch (IOException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException("cannot make test certificates: " + e, e);
    }
  }

  KvdCluster(Path root, int size, long snapshotCount, Firewall firewall, String discovery, TestPki pki)
      throws IOException {
    this.pki = pki;
    try {
      this.clientCert = pki == null ? null : pki.issue("client");
    } catch (Exception e) {
      throw new IOException("cannot issue the client certificate: " + e, e);
    }
    this.root = root;
    this.http = httpClientBuilder().connectTimeout(Duration.ofMillis(500)).build();
    this.snapshotCount = snapshotCount;
    this.firewall = firewall;
    for (int i = 1; i <= size; i++) {
      Member m = new Member(i, root);
      m.discovery = discovery;
      members.add(m);
    }
  }

  /** One more member for the same discovery URL (not started). */
  Member newDiscoveryMember(String discovery) throws IOException {
    Member m = new Member(members.size() + 1, root);
    m.discovery = discovery;
    members.add(m);
    return m;
  }

  /** The founders (members added later are not in it). */
  String initialCluster() {
    List<String> parts = new ArrayList<>();
    for (Member m : members) {
      if (m.joinCluster == null) {
        parts.add(m.name + "=" + m.peerUrl());
      }
    }
    return String.join(",", parts);
  }

  /**
   * A new member (not started) to join the running cluster with --initial-cluster-state existing;
   * its --initial-cluster lists the members in {@code current} and itself, as etcd's member add prints.
   */
  Member newJoiner(List<Member> current) throws IOException {
    Member m = new Member(members.size() + 1, root);
    List<String> parts = new ArrayList<>();
    for (Member c : current) {
      parts.add(c.name + "=" + c.peerUrl());
    }
    parts.add(m.name + "=" + m.peerUrl());
    m.joinCluster = String.join(",", parts);
    m.clusterState = "existing";
    members.add(m);
    return m;
  }

  /**
   * How long a starting member may take to answer: a cold JVM loading gRPC, RocksDB and Netty needs
   * about 2 s of CPU, which on a 2-core machine busy with other JVMs took 45 s of wall time (CI).
   */
  public static final Duration START_TIMEOUT = Duration.ofSeconds(120);

  /** The members' client URLs, as fleetd's or etcdctl's --endpoints take them. */
  public List<URI> clientUrls() {
    return members.stream().map(Member::clientUrl).toList();
  }

  public void startAll() throws IOException, InterruptedException {
    for (Member m : members) {
      m.start();
    }
    for (Member m : members) {
      m.awaitUp(START_TIMEOUT);
    }
  }

  /** The member every running, unpaused, connected member agrees leads; null while there is none. */
  Member leader() {
    String agreed = null;
    int votes = 0;
    for (Member m : members) {
      String l = m.leaderSeen();
      if (l != null) {
        if (agreed == null) {
          agreed = l;
        }
        if (agreed.equals(l)) {
          votes++;
        }
      }
    }
    if (agreed == null || votes <= members.size() / 2) {
      return null;
    }
    for (Member m : members) {
      if (agreed.equals(m.id)) {
        return m;
      }
    }
    return null;
  }

  public Member awaitLeader(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      Member l = leader();
      if (l != null) {
        return l;
      }
      Thread.sleep(50);
    }
    return null;
  }

  /** Cuts {@code m} off from every other member (both directions), clients still reach it. */
  void isolate(Member m) throws IOException, InterruptedException {
    for (Member o : members) {
      if (o != m) {
        firewall.cut(m.host, o.host);
      }
    }
  }

  void heal() throws IOException, InterruptedException {
    firewall.clear();
  }

  String logs() {
    StringBuilder b = new StringBuilder();
    for (Member m : members) {
      for (int s = 1; s <= m.starts; s++) {
        Path p = root.resolve(m.name + ".log." + s);
        try {
          List<String> lines = Files.readAllLines(p);
          b.append("---- ").append(p.getFileName()).append(" (last 40 lines)\n");
          lines.subList(Math.max(0, lines.size() - 40), lines.size()).forEach(l -> b.append(l).append('\n'));
        } catch (IOException e) {
          b.append("---- ").append(p).append(": ").append(e).append('\n');
        }
      }
    }
    return b.toString();
  }

  @Override
  public void close() throws Exception {
    try {
      if (firewall != null) {
        firewall.clear();
      }
    } finally {
      for (Member m : members) {
        m.kill();
      }
    }
  }

  /**
   * A port free on {@code host} now, below Linux's ephemeral range (32768-60999): a port the kernel
   * hands out (bind to 0) can be taken again, before the member binds it, as the local port of a
   * peer's outgoing connection from the same address; ports below that range never are.
   */
  static int freePort(String host) throws IOException {
    InetAddress address = InetAddress.getByName(host);
    ThreadLocalRandom random = ThreadLocalRandom.current();
    IOException last = null;
    for (int attempt = 0; attempt < 200; attempt++) {
      int port = random.nextInt(12_000, 32_000);
      try (ServerSocket s = new ServerSocket()) {
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(address, port));
        return port;
      } catch (IOException e) {
        last = e; // taken: try another
      }
    }
    throw new IOException("no free port below 32000 on " + host, last);
  }
}
