package dev.flotilla.agent.runtime.systemd;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real systemd as PID 1 of its own PID, mount and UTS namespace: a throwaway host for the
 * agent's systemd runtime and for fleetd end-to-end tests. It shares the machine's root file
 * system and network but has its own {@code /run} and {@code /tmp} (tmpfs), its own hostname and
 * its own volatile journal. It boots a target of its own that pulls in only {@code sysinit.target},
 * not {@code multi-user.target}: that would start the machine's enabled services (etcd on :2379,
 * postgres, gettys) a second time on the shared network and disks. Of sysinit, the units that
 * would change the shared machine (sysusers editing /etc/passwd, tmpfiles removing
 * /etc/passwd.lock, sysctl, modules, remounting /, ldconfig, …) are masked in the private /run,
 * and tmpfiles only sets up the private /run and /tmp.
 *
 * <p>Reach it with {@link #exec} (runs a command inside through {@code nsenter}), or point a
 * {@link dev.flotilla.agent.runtime.systemd.SystemdRuntime} at {@link #runtimeOptions()}.
 * {@link #close()} SIGKILLs its PID 1, which ends the namespace and everything in it, and waits
 * until the processes are gone. Needs root, {@code unshare}, {@code nsenter} and
 * {@code /lib/systemd/systemd}; without them {@link #start} skips the test, saying what is missing.
 */
public final class SystemdHost implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SystemdHost.class);
  private static final Path SYSTEMD = Path.of("/lib/systemd/systemd");
  private static final Duration BOOT_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(20);
  private static final AtomicInteger SEQUENCE = new AtomicInteger();

  /** The unit the host boots into: sysinit (journald, tmpfiles, …) and nothing of multi-user. */
  static final String BOOT_TARGET = "flotilla-test-host.target";
  private static final String BOOT_TARGET_FILE = """
      [Unit]
      Description=Flotilla test host
      Requires=sysinit.target
      After=sysinit.target
      AllowIsolate=yes
      """;
  /** In the private /run: keep this host's journal out of the machine's /var/log/journal. */
  private static final String JOURNALD_DROP_IN = """
      [Journal]
      Storage=volatile
      """;
  /** Units of sysinit.target that would act on the machine rather than this host's namespaces. */
  private static final List<String> MASKED = List.of(
      "systemd-sysusers.service", "systemd-sysctl.service", "systemd-binfmt.service",
      "systemd-modules-load.service", "systemd-remount-fs.service", "systemd-tmpfiles-setup-dev.service",
      "kmod-static-nodes.service", "systemd-random-seed.service", "systemd-update-utmp.service",
      "systemd-firstboot.service", "systemd-machine-id-commit.service", "systemd-repart.service",
      "systemd-pstore.service", "systemd-timesyncd.service", "systemd-hwdb-update.service",
      "systemd-udev-trigger.service", "systemd-udevd.service", "ldconfig.service",
      "systemd-journal-catalog-update.service", "systemd-update-done.service", "modprobe@.service");
  /** tmpfiles at boot, but only for paths that are this host's own. */
  private static final String TMPFILES_DROP_IN = """
      [Service]
      ExecStart=
      ExecStart=systemd-tmpfiles --create --remove --boot --prefix=/run --prefix=/tmp
      """;
  /**
   * Runs as {@code sh -c} inside the new namespaces, before systemd: private /run and /tmp; in
   * that /run our boot target, the masks and drop-ins; an empty /var/log/journal (so journalctl
   * reads only this host's journal); the hostname (bound over /etc/hostname, which systemd would
   * otherwise apply at boot); then systemd itself as PID 1.
   */
  private static final String BOOT_SCRIPT = String.join("\n",
      "set -e",
      "mount -t tmpfs -o mode=0755 tmpfs /run",
      "mount -t tmpfs -o mode=1777 tmpfs /tmp",
      "mkdir -p /run/systemd/system/systemd-tmpfiles-setup.service.d /run/systemd/journald.conf.d",
      "printf '%s' \"$2\" > /run/systemd/system/" + BOOT_TARGET,
      "printf '%s' \"$3\" > /run/systemd/journald.conf.d/flotilla-test-host.conf",
      "printf '%s' \"$4\" > /run/systemd/system/systemd-tmpfiles-setup.service.d/flotilla-test-host.conf",
      "for unit in $5; do ln -s /dev/null /run/systemd/system/$unit; done",
      "if [ -d /var/log/journal ]; then mount -t tmpfs -o mode=2755 tmpfs /var/log/journal; fi",
      "hostname \"$1\"",
      "printf '%s\\n' \"$1\" > /run/flotilla-hostname",
      "if [ -f /etc/hostname ]; then mount --bind /run/flotilla-hostname /etc/hostname; fi",
      "exec " + SYSTEMD + " --system --unit=" + BOOT_TARGET);

  /** What a command run inside the host did. */
  public record ExecResult(int exitCode, String stdout, String stderr) {
    /** stdout without the trailing newline. */
    public String output() {
      return stdout.strip();
    }
  }

  private final String hostname;
  private final Process unshare;
  private final long pid;
  private final Path logFile;
  private final CommandRunner runner;
  private final Thread shutdownHook;
  private boolean closed;

  private SystemdHost(String hostname, Process unshare, long pid, Path logFile) {
    this.hostname = hostname;
    this.unshare = unshare;
    this.pid = pid;
    this.logFile = logFile;
    this.runner = new CommandRunner(commandPrefix(), Duration.ofSeconds(30));
    this.shutdownHook = new Thread(this::kill, "systemd-host-" + hostname + "-reaper");
  }

  /** Boots a host named {@code flotilla-host-<n>}. */
  public static SystemdHost start() {
    return start("flotilla-host-" + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet());
  }

  /**
   * Boots a host and returns once {@code systemctl is-system-running} says running (or
   * degraded); skips the calling test if this machine cannot run one.
   */
  public static SystemdHost start(String hostname) {
    assumeCanRun();
    Path logFile;
    Process unshare;
    try {
      logFile = Files.createTempFile("systemd-host-" + hostname + "-", ".log");
      unshare = new ProcessBuilder("unshare", "--pid", "--fork", "--kill-child=SIGKILL", "--mount",
          "--propagation", "private", "--uts", "--mount-proc",
          "sh", "-c", BOOT_SCRIPT, "sh", hostname, BOOT_TARGET_FILE, JOURNALD_DROP_IN,
          TMPFILES_DROP_IN, String.join(" ", MASKED))
          .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
          .redirectErrorStream(true)
          .redirectOutput(logFile.toFile())
          .start();
    } catch (IOException e) {
      throw new IllegalStateException("could not start unshare for systemd host " + hostname + ": " + e, e);
    }
    long pid;
    try {
      pid = awaitSystemdPid(unshare, logFile);
    } catch (RuntimeException | Error e) {
      unshare.descendants().forEach(ProcessHandle::destroyForcibly);
      unshare.destroyForcibly();
      throw e;
    }
    var host = new SystemdHost(hostname, unshare, pid, logFile);
    Runtime.getRuntime().addShutdownHook(host.shutdownHook);
    try {
      host.awaitRunning();
    } catch (RuntimeException | Error e) {
      host.close();
      throw e;
    }
    log.info("systemd host {} up: PID {} (unshare {})", hostname, pid, unshare.pid());
    return host;
  }

  /** systemd's PID as seen from outside the namespace. */
  public long pid() {
    return pid;
  }

  public String hostname() {
    return hostname;
  }

  /** The host's private /run, as seen from outside. */
  public Path runDir() {
    return Path.of("/proc", Long.toString(pid), "root", "run");
  }

  /** The host's /run/systemd/system, as seen from outside: where the agent puts unit files. */
  public Path unitDir() {
    return runDir().resolve("systemd/system");
  }

  /** What to put before a command to run it inside: {@code nsenter -t <pid> -a}. */
  public List<String> commandPrefix() {
    return List.of("nsenter", "-t", Long.toString(pid), "-a");
  }

  /** A systemd runtime for this host, as the agent would use it. */
  public SystemdRuntime.Options runtimeOptions() {
    return SystemdRuntime.Options.defaults().withUnitDir(unitDir()).withCommandPrefix(commandPrefix())
        .withRoot(Path.of("/proc", Long.toString(pid), "root"));
  }

  /** Runs {@code command} inside the host and returns what it did (30 s at most). */
  public ExecResult exec(String... command) {
    var r = runner.run(List.of(command));
    if (r.timedOut()) {
      throw new IllegalStateException("`" + String.join(" ", command) + "` in host " + hostname + " timed out");
    }
    return new ExecResult(r.exitCode(), r.stdout(), r.stderr());
  }

  /** Kills the host (SIGKILL to its PID 1) and waits until it and its unshare are gone. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // the JVM is shutting down: the hook runs kill() anyway
    }
    kill();
    if (ProcessHandle.of(pid).isPresent() || unshare.isAlive()) {
      throw new IllegalStateException("systemd host " + hostname + " (PID " + pid + ", unshare "
          + unshare.pid() + ") still runs " + EXIT_TIMEOUT.toSeconds() + " s after SIGKILL");
    }
    try {
      Files.deleteIfExists(logFile);
    } catch (IOException e) {
      log.debug("could not delete {}: {}", logFile, e.toString());
    }
    log.info("systemd host {} (PID {}) gone", hostname, pid);
  }

  private void kill() {
    // PID 1 ignores signals it has no handler for from inside its namespace, not SIGKILL from
    // outside; its death kills everything else in the namespace, then unshare exits.
    ProcessHandle.of(pid).ifPresent(h -> {
      h.destroyForcibly();
      awaitExit(h);
    });
    try {
      if (!unshare.waitFor(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        unshare.destroyForcibly();
        unshare.waitFor(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void awaitExit(ProcessHandle handle) {
    try {
      handle.onExit().get(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // checked by the caller
    }
  }

  private static void assumeCanRun() {
    Assumptions.assumeTrue(isRoot(), "systemd host needs root (to create namespaces and run systemd as PID 1)");
    Assumptions.assumeTrue(Files.isExecutable(SYSTEMD), "systemd host needs " + SYSTEMD + " (Debian package systemd)");
    for (var tool : List.of("unshare", "nsenter", "systemctl", "journalctl", "mount", "hostname")) {
      Assumptions.assumeTrue(onPath(tool).isPresent(), "systemd host needs `" + tool + "` on PATH");
    }
  }

  private static boolean isRoot() {
    try {
      return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  private static Optional<Path> onPath(String tool) {
    var path = System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    return Stream.of(path.split(":"))
        .filter(d -> !d.isEmpty())
        .map(d -> Path.of(d, tool))
        .filter(Files::isExecutable)
        .findFirst();
  }

  /** The child of unshare once it has exec'ed systemd (before that it is the boot script's sh). */
  private static long awaitSystemdPid(Process unshare, Path logFile) {
    long deadline = System.nanoTime() + BOOT_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!unshare.isAlive()) {
        var output = read(logFile);
        Assumptions.assumeFalse(output.contains("Operation not permitted"),
            "systemd host needs to create PID/mount/UTS namespaces, which this machine refuses: " + output.strip());
        throw new IllegalStateException("unshare exited " + unshare.exitValue() + " before systemd started: "
            + output.strip());
      }
      var child = unshare.children().findFirst();
      if (child.isPresent() && "systemd".equals(comm(child.get().pid()))) {
        return child.get().pid();
      }
      pause();
    }
    throw new IllegalStateException("systemd did not start within " + BOOT_TIMEOUT + ": " + read(logFile).strip());
  }

  private void awaitRunning() {
    long deadline = System.nanoTime() + BOOT_TIMEOUT.toNanos();
    String state = "";
    while (System.nanoTime() < deadline) {
      var r = exec("systemctl", "is-system-running");
      state = (r.output() + " " + r.stderr().strip()).strip();
      if (r.output().equals("running") || r.output().equals("degraded")) {
        if (r.output().equals("degraded")) {
          log.warn("systemd host {} is degraded: {}", hostname,
              exec("systemctl", "--failed", "--no-legend", "--no-pager").output());
        }
        return;
      }
      if (!ProcessHandle.of(pid).isPresent()) {
        break;
      }
      pause();
    }
    throw new IllegalStateException("systemd host " + hostname + " (PID " + pid + ") did not come up within "
        + BOOT_TIMEOUT + "; is-system-running said '" + state + "'; its output: " + read(logFile).strip());
  }

  private static String comm(long pid) {
    try {
      return Files.readString(Path.of("/proc", Long.toString(pid), "comm"), StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      return "";
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(" + file + " unreadable: " + e + ")";
    }
  }

  /** The interval between two polls of a deadline loop. */
  private static void pause() {
    try {
      Thread.sleep(20);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for a systemd host", e);
    }
  }
}
