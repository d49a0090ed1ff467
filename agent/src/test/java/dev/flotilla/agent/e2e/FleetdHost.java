package dev.flotilla.agent.e2e;

import dev.flotilla.agent.runtime.systemd.SystemdHost;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A {@link SystemdHost} with a real fleetd running inside its namespaces, as on a machine of its
 * own: {@code nsenter -t <systemd> -a java … dev.flotilla.agent.Fleetd --runtime systemd …}, so
 * fleetd writes to the host's {@code /run/systemd/system}, its {@code systemctl} talks to the
 * host's systemd, and it dies with the host. It shares the machine's loopback (the store and the
 * fleet API are reached on 127.0.0.1) and {@code /etc/machine-id} (so the machine ID is passed).
 *
 * <p>fleetd's output goes to {@link #logFile()} (appended across restarts). {@link #killFleetd()}
 * and {@link #restartFleetd()} act on fleetd alone; {@link #killHost()} SIGKILLs systemd, which
 * takes everything in the namespace with it. {@link #close()} leaves no process behind.
 */
public final class FleetdHost implements AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(20);
  /** Logged by the agent once its machine record is in the store. */
  private static final String PUBLISHED = "presence published";

  private final SystemdHost systemd;
  private final String machineId;
  private final URI api;
  private final List<String> command;
  private final Path logFile;
  private Process nsenter;
  private long fleetdPid = -1;
  /** Where in the log the fleetd started last began writing. */
  private long launchOffset;
  private boolean hostKilled;

  private FleetdHost(SystemdHost systemd, String machineId, URI api, List<String> command, Path logFile) {
    this.systemd = systemd;
    this.machineId = machineId;
    this.api = api;
    this.command = command;
    this.logFile = logFile;
  }

  /**
   * Boots a systemd host named after {@code machineId} and starts fleetd in it against the store at
   * {@code store}; returns without waiting for fleetd ({@link #awaitPublished}). Skips the calling
   * test when this machine cannot run a systemd host.
   */
  public static FleetdHost start(String machineId, URI store, Duration agentTtl, String metadata, Path logDir) {
    return start(machineId, List.of(store), agentTtl, metadata, logDir);
  }

  /** As {@link #start(String, URI, Duration, String, Path)}, with every member of a store cluster. */
  public static FleetdHost start(String machineId, List<URI> stores, Duration agentTtl, String metadata,
      Path logDir) {
    SystemdHost systemd = SystemdHost.start("fleetd-" + machineId);
    try {
      Files.createDirectories(logDir);
      Path logFile = logDir.resolve("fleetd-" + machineId + ".log");
      Files.deleteIfExists(logFile);
      URI api = URI.create("http://127.0.0.1:" + freePort());
      List<String> command = new ArrayList<>(systemd.commandPrefix());
      command.addAll(List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          // fleetd's own logging (the test classpath's logback-test.xml would hide its info lines)
          "-Dlogback.configurationFile=logback.xml",
          "-XX:+UseSerialGC", "-Xmx256m", "-XX:TieredStopAtLevel=1",
          "-cp", classpathInside(systemd),
          "dev.flotilla.agent.Fleetd",
          "--runtime", "systemd",
          "--endpoints", String.join(",", stores.stream().map(URI::toString).toList()),
          "--machine-id", machineId,
          "--agent-ttl", agentTtl.toMillis() % 1000 == 0 ? agentTtl.toSeconds() + "s" : agentTtl.toMillis() + "ms",
          "--api-listen", api.toString(),
          "--metadata", metadata,
          "--data-dir", "/run/fleetd"));
      FleetdHost host = new FleetdHost(systemd, machineId, api, List.copyOf(command), logFile);
      host.launch();
      return host;
    } catch (IOException | RuntimeException e) {
      systemd.close();
      throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
    }
  }

  public String machineId() {
    return machineId;
  }

  /** The fleet API v1 this fleetd serves. */
  public URI api() {
    return api;
  }

  public SystemdHost systemd() {
    return systemd;
  }

  public Path logFile() {
    return logFile;
  }

  /** fleetd's PID as seen from outside the host. */
  public long fleetdPid() {
    return fleetdPid;
  }

  public boolean fleetdAlive() {
    return fleetdPid > 0 && ProcessHandle.of(fleetdPid).isPresent();
  }

  /** Whether the host still runs (not killed by {@link #killHost()} or closed). */
  public boolean hostAlive() {
    return !hostKilled && ProcessHandle.of(systemd.pid()).isPresent();
  }

  private void launch() throws IOException {
    long offset = Files.exists(logFile) ? Files.size(logFile) : 0;
    nsenter = new ProcessBuilder(command)
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
        .start();
    // nsenter forks to enter the PID namespace; its child is the JVM
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    Optional<ProcessHandle> child = nsenter.children().findFirst();
    while (child.isEmpty()) {
      if (!nsenter.isAlive() || System.nanoTime() > deadline) {
        nsenter.destroyForcibly();
        throw new IllegalStateException("fleetd on " + machineId + " did not start: " + tail(offset));
      }
      pause();
      child = nsenter.children().findFirst();
    }
    fleetdPid = child.get().pid();
    launchOffset = offset;
  }

  /** Whether the fleetd started last has published its machine (said so in its log). */
  public boolean published() {
    return tail(launchOffset).contains(PUBLISHED);
  }

  /** Waits until the fleetd started last has published its machine; fails with its log if it dies first. */
  public void awaitPublished(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!published()) {
      if (!fleetdAlive()) {
        throw new IllegalStateException("fleetd on " + machineId + " (PID " + fleetdPid + ") exited before "
            + "publishing its machine; its output:\n" + tail(launchOffset));
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("fleetd on " + machineId + " did not publish its machine within "
            + timeout + "; its output:\n" + tail(launchOffset));
      }
      pause();
    }
  }

  /** What the fleetd started last has logged so far. */
  public String logSinceLastStart() {
    return tail(launchOffset);
  }

  /** kill -9 of fleetd alone (its units stay with systemd); waits until it is gone. */
  public void killFleetd() {
    ProcessHandle.of(fleetdPid).ifPresent(h -> {
      h.destroyForcibly();
      await(h);
    });
    try {
      if (!nsenter.waitFor(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException("nsenter for fleetd on " + machineId + " still runs after fleetd's SIGKILL");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** Starts fleetd again with the same command line (after {@link #killFleetd()}). */
  public void restartFleetd() {
    if (fleetdAlive()) {
      throw new IllegalStateException("fleetd on " + machineId + " still runs (PID " + fleetdPid + ")");
    }
    try {
      launch();
    } catch (IOException e) {
      throw new UncheckedIOException("could not restart fleetd on " + machineId, e);
    }
  }

  /**
   * SIGKILL to the host's systemd (PID 1 of the namespace): the kernel kills fleetd and every unit
   * with it. Returns {@link System#nanoTime()} just before the signal; waits until all are gone.
   */
  public long killHost() {
    long at = System.nanoTime();
    hostKilled = true;
    systemd.close();
    return at;
  }

  /** {@code systemctl show -p <properties> <unit>} inside the host, as a map. */
  public Map<String, String> show(String unit, String... properties) {
    return showAll(List.of(unit), properties).get(unit);
  }

  /**
   * One {@code systemctl show} inside the host for several units: unit → property → value (a unit
   * systemd does not know has LoadState=not-found, ActiveState=inactive).
   */
  public Map<String, Map<String, String>> showAll(List<String> units, String... properties) {
    List<String> command = new ArrayList<>(List.of("systemctl", "show", "-p", "Id," + String.join(",", properties)));
    command.addAll(units);
    var r = systemd.exec(command.toArray(String[]::new));
    if (r.exitCode() != 0) {
      throw new IllegalStateException("systemctl show " + units + " on " + machineId + " exited " + r.exitCode()
          + ": " + r.stderr().strip());
    }
    Map<String, Map<String, String>> out = new LinkedHashMap<>();
    Map<String, String> block = new LinkedHashMap<>();
    for (String line : (r.stdout() + "\n").split("\n", -1)) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        block.put(line.substring(0, eq), line.substring(eq + 1));
      } else if (line.isEmpty() && !block.isEmpty()) {
        out.put(block.remove("Id"), block);
        block = new LinkedHashMap<>();
      }
    }
    if (!out.keySet().containsAll(units)) {
      throw new IllegalStateException("systemctl show " + units + " on " + machineId + " answered for "
          + out.keySet() + ":\n" + r.stdout());
    }
    return out;
  }

  /** The last {@code lines} lines fleetd wrote (across restarts). */
  public String logTail(int lines) {
    List<String> all = tail(0).lines().toList();
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }

  private String tail(long offset) {
    try (RandomAccessFile f = new RandomAccessFile(logFile.toFile(), "r")) {
      long length = f.length();
      if (offset >= length) {
        return "";
      }
      byte[] bytes = new byte[(int) Math.min(length - offset, 4 << 20)];
      f.seek(length - bytes.length);
      f.readFully(bytes);
      return new String(bytes, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(" + logFile + " unreadable: " + e + ")";
    }
  }

  /** Ends fleetd and the host; nothing of either is left running. */
  @Override
  public void close() {
    try {
      if (nsenter != null && (fleetdAlive() || nsenter.isAlive())) {
        killFleetd();
      }
    } finally {
      systemd.close();
    }
  }

  /**
   * The test JVM's class path as fleetd sees it inside the host: entries the host cannot see (its
   * /run and /tmp are its own, and a build tree may live under /tmp) are copied into its /run.
   */
  private static String classpathInside(SystemdHost host) throws IOException {
    List<String> entries = List.of(System.getProperty("java.class.path").split(java.io.File.pathSeparator));
    List<String> probe = new ArrayList<>(List.of("sh", "-c", "for p; do [ -e \"$p\" ] || echo \"$p\"; done", "sh"));
    probe.addAll(entries);
    var missing = host.exec(probe.toArray(String[]::new)).stdout().lines().toList();
    List<String> inside = new ArrayList<>();
    int n = 0;
    for (String entry : entries) {
      if (!missing.contains(entry) || !Files.exists(Path.of(entry))) {
        inside.add(entry);
        continue;
      }
      String copy = "/run/flotilla-classpath/" + (n++) + "-" + Path.of(entry).getFileName();
      copyTree(Path.of(entry), host.runDir().resolve(copy.substring("/run/".length())));
      inside.add(copy);
    }
    return String.join(java.io.File.pathSeparator, inside);
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path p : (Iterable<Path>) paths::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.createDirectories(target.getParent());
          Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void await(ProcessHandle h) {
    try {
      h.onExit().get(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("PID " + h.pid() + " still runs " + EXIT_TIMEOUT + " after SIGKILL", e);
    }
  }

  private static void pause() {
    try {
      Thread.sleep(20);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
