package dev.flotilla.kv.compat3;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A real etcd 3.4 (Debian {@code etcd-server}): one member named "default", free loopback
 * ports, a fresh data dir. The test owns the process: {@link #close()} kills it, and so does a
 * JVM shutdown hook should the JVM end first. Its log goes to {@code target/compat3-logs/}.
 */
final class EtcdV3Server implements V3Server {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(20);
  private static final AtomicInteger STARTS = new AtomicInteger();

  private final String name;
  private final Process process;
  private final Thread hook;
  private final Path dataDir;
  private final URI clientUrl;
  private final URI peerUrl;

  private EtcdV3Server(String name, Process process, Thread hook, Path dataDir, URI clientUrl, URI peerUrl) {
    this.name = name;
    this.process = process;
    this.hook = hook;
    this.dataDir = dataDir;
    this.clientUrl = clientUrl;
    this.peerUrl = peerUrl;
  }

  /** Starts etcd; a port taken between our probe and etcd's bind means a retry on new ports. */
  static EtcdV3Server start(String name) {
    Path etcd = Tools3.etcd();
    IOException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      try {
        return startOnce(etcd, name);
      } catch (IOException e) {
        last = e;
      }
    }
    throw new UncheckedIOException("etcd " + name + " did not start in 3 attempts", last);
  }

  private static EtcdV3Server startOnce(Path etcd, String name) throws IOException {
    int client = freePort();
    int peer = freePort();
    while (peer == client) {
      peer = freePort();
    }
    URI clientUrl = URI.create("http://127.0.0.1:" + client);
    URI peerUrl = URI.create("http://127.0.0.1:" + peer);
    Path dataDir = Files.createTempDirectory("flotilla-compat3-etcd-");
    Path log = logDir().resolve("etcd-" + name + "-" + ProcessHandle.current().pid() + "-"
        + STARTS.incrementAndGet() + ".log");
    List<String> cmd = List.of(etcd.toString(),
        "--name", "default",
        "--data-dir", dataDir.resolve("member-data").toString(),
        "--listen-client-urls", clientUrl.toString(),
        "--advertise-client-urls", clientUrl.toString(),
        "--listen-peer-urls", peerUrl.toString(),
        "--initial-advertise-peer-urls", peerUrl.toString(),
        "--initial-cluster", "default=" + peerUrl);
    Files.writeString(log, String.join(" ", cmd) + "\n");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    Thread hook = new Thread(p::destroyForcibly, "kill-etcd-" + p.pid());
    Runtime.getRuntime().addShutdownHook(hook);
    EtcdV3Server s = new EtcdV3Server(name, p, hook, dataDir, clientUrl, peerUrl);
    try {
      s.awaitHealthy(log);
      return s;
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
  }

  private void awaitHealthy(Path log) throws IOException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    HttpRequest health = HttpRequest.newBuilder(clientUrl.resolve("/health")).timeout(Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException("etcd " + name + " exited with " + process.exitValue() + "; see " + log);
      }
      try {
        HttpResponse<String> r = http.send(health, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200 && r.body().contains("\"health\":\"true\"")) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for etcd " + name, e);
      }
      try {
        process.waitFor(50, TimeUnit.MILLISECONDS); // poll interval; the loop re-checks health
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for etcd " + name, e);
      }
    }
    throw new IOException("etcd " + name + " not healthy at " + clientUrl + " within " + START_TIMEOUT + "; see " + log);
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  static Path logDir() {
    Path dir = Path.of(System.getProperty("basedir", "."), "target", "compat3-logs");
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return dir;
  }

  static void deleteTree(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a leftover temp dir is not worth failing a test over
    }
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public URI clientUrl() {
    return clientUrl;
  }

  @Override
  public URI peerUrl() {
    return peerUrl;
  }

  @Override
  public void close() {
    process.destroyForcibly();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException("etcd " + name + " (pid " + process.pid() + ") survived SIGKILL");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // the JVM is shutting down; the hook runs anyway
      }
      deleteTree(dataDir);
    }
  }

  @Override
  public String toString() {
    return "etcd " + name + " (pid " + process.pid() + ") at " + clientUrl;
  }
}
