package dev.flotilla.kv.compat;

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
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real etcd 3.4 (Debian {@code etcd-server}) with the v2 API enabled, one member, on free
 * loopback ports and a fresh data dir: the oracle the compat tests compare kvd against.
 * The test owns the process: {@link #close()} kills it (and a JVM shutdown hook does, should the
 * test JVM end first); its output goes to {@code target/compat-logs/}.
 */
public final class EtcdProcess implements V2Target {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(20);
  private static final AtomicInteger STARTS = new AtomicInteger();

  private final String name;
  private final Process process;
  private final Thread shutdownHook;
  private final Path dataDir;
  private final Path logFile;
  private final URI clientUrl;
  private final URI peerUrl;

  private EtcdProcess(String name, Process process, Thread shutdownHook, Path dataDir, Path logFile,
      URI clientUrl, URI peerUrl) {
    this.name = name;
    this.process = process;
    this.shutdownHook = shutdownHook;
    this.dataDir = dataDir;
    this.logFile = logFile;
    this.clientUrl = clientUrl;
    this.peerUrl = peerUrl;
  }

  /** Skips the calling test (JUnit assumption) when no {@code etcd} binary is on PATH. */
  static Path requireEtcd() {
    Path etcd = findOnPath("etcd");
    Tools.require(etcd != null,
        "etcd-server is missing: no `etcd` on PATH; install Debian's etcd-server (etcd 3.4) to run the compat tests");
    return etcd;
  }

  /** {@code name} on PATH, or null. */
  static Path findOnPath(String name) {
    String path = System.getenv().getOrDefault("PATH", "");
    for (String dir : path.split(java.io.File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path p = Path.of(dir, name);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  /**
   * Starts etcd and returns once {@code /health} answers. A free port can be taken by someone
   * else between our probe and etcd's bind, so a failed start is retried on new ports.
   */
  static EtcdProcess start(String name) {
    return start(name, true, logDir());
  }

  /**
   * Starts etcd with the v2 API on or off ({@code --enable-v2}), its log in {@code logDir};
   * a port taken between our probe and etcd's bind means a retry on new ports.
   */
  public static EtcdProcess start(String name, boolean enableV2, Path logDir) {
    return start(name, enableV2, logDir, List.of());
  }

  /** As {@link #start(String, boolean, Path)}, with more etcd flags (e.g. --quota-backend-bytes). */
  public static EtcdProcess start(String name, boolean enableV2, Path logDir, List<String> extraArgs) {
    Path etcd = requireEtcd();
    IOException last = null;
    for (int attempt = 1; attempt <= 3; attempt++) {
      try {
        return startOnce(etcd, name, enableV2, logDir, extraArgs);
      } catch (IOException e) {
        last = e;
      }
    }
    throw new UncheckedIOException("etcd " + name + " did not start in 3 attempts", last);
  }

  private static EtcdProcess startOnce(Path etcd, String name, boolean enableV2, Path logDir,
      List<String> extraArgs) throws IOException {
    int clientPort = freePort();
    int peerPort = freePort();
    while (peerPort == clientPort) {
      peerPort = freePort();
    }
    URI clientUrl = URI.create("http://127.0.0.1:" + clientPort);
    URI peerUrl = URI.create("http://127.0.0.1:" + peerPort);
    Path dataDir = Files.createTempDirectory("flotilla-etcd-" + name + "-");
    Path logFile = logDir.resolve("etcd-" + name + "-"
        + LocalDateTime.now().format(DateTimeFormatter.ofPattern("HHmmss")) + "-" + STARTS.incrementAndGet() + ".log");
    List<String> cmd = new java.util.ArrayList<>(List.of(etcd.toString(),
        "--name", "default",
        "--data-dir", dataDir.resolve("member-data").toString(),
        "--listen-client-urls", clientUrl.toString(),
        "--advertise-client-urls", clientUrl.toString(),
        "--listen-peer-urls", peerUrl.toString(),
        "--initial-advertise-peer-urls", peerUrl.toString(),
        "--initial-cluster", "default=" + peerUrl));
    if (enableV2) {
      cmd.add(3, "--enable-v2=true"); // after "--name default", where it always stood
    }
    cmd.addAll(extraArgs);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    Files.writeString(logFile, String.join(" ", cmd) + "\n");
    Process p = pb.start();
    Thread hook = new Thread(p::destroyForcibly, "kill-etcd-" + name + "-" + p.pid());
    Runtime.getRuntime().addShutdownHook(hook);
    EtcdProcess ep = new EtcdProcess(name, p, hook, dataDir, logFile, clientUrl, peerUrl);
    try {
      ep.awaitHealthy();
      return ep;
    } catch (IOException | RuntimeException e) {
      ep.close();
      throw e;
    }
  }

  private void awaitHealthy() throws IOException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    HttpRequest health = HttpRequest.newBuilder(clientUrl.resolve("/health"))
        .timeout(Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException("etcd " + name + " exited with " + process.exitValue() + " before it served; log "
            + logFile + ":\n" + tail(logFile));
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
      // poll interval, not a wait for a condition: the loop re-checks health and liveness
      try {
        process.waitFor(50, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for etcd " + name, e);
      }
    }
    throw new IOException("etcd " + name + " not healthy at " + clientUrl + "/health within " + START_TIMEOUT
        + "; log " + logFile + ":\n" + tail(logFile));
  }

  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** {@code target/compat-logs} of the module under test (surefire sets {@code basedir}). */
  static Path logDir() {
    Path dir = Path.of(System.getProperty("basedir", "."), "target", "compat-logs");
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return dir;
  }

  static String tail(Path file) {
    try {
      List<String> lines = Files.readAllLines(file);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(cannot read " + file + ": " + e + ")";
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

  public URI peerUrl() {
    return peerUrl;
  }

  long pid() {
    return process.pid();
  }

  Path logFile() {
    return logFile;
  }

  @Override
  public void close() {
    process.destroyForcibly();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException("etcd " + name + " (pid " + process.pid() + ") did not die after SIGKILL");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException e) {
        // the JVM is already shutting down; the hook runs anyway
      }
      deleteTree(dataDir);
    }
  }

  public static void deleteTree(Path dir) {
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
  public String toString() {
    return "etcd " + name + " pid " + process.pid() + " at " + clientUrl;
  }
}
