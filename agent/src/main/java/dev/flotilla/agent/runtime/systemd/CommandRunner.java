package dev.flotilla.agent.runtime.systemd;

import dev.flotilla.agent.runtime.RuntimeFailure;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one command line to completion with a deadline, a command prefix put in front of each
 * ({@code nsenter -t <pid> -a} in tests), stdout and stderr read fully on their own threads so
 * that neither pipe can fill up and stall the child, and a count of the processes it spawned.
 */
final class CommandRunner {
  private static final Logger log = LoggerFactory.getLogger(CommandRunner.class);
  /** After the command exited (or was killed): how long its pipes may take to reach EOF. */
  private static final Duration DRAIN = Duration.ofSeconds(5);

  /** What a command did; {@code exitCode} is -1 when it was killed at the deadline. */
  record Result(List<String> command, int exitCode, boolean timedOut, String stdout, String stderr) {
    boolean ok() {
      return !timedOut && exitCode == 0;
    }

    /** The first non-blank line of stderr, or "" (what a one-line failure message quotes). */
    String firstErrorLine() {
      return stderr.lines().map(String::strip).filter(l -> !l.isEmpty()).findFirst().orElse("");
    }
  }

  private final List<String> prefix;
  private final Duration timeout;
  private final AtomicLong spawned = new AtomicLong();

  CommandRunner(List<String> prefix, Duration timeout) {
    this.prefix = List.copyOf(prefix);
    this.timeout = timeout;
  }

  long spawned() {
    return spawned.get();
  }

  Duration timeout() {
    return timeout;
  }

  /**
   * Runs {@code prefix + args}. A non-zero exit or a timeout is a {@link Result} for the caller
   * to judge; only a command that could not be started at all (or an interrupt) throws.
   */
  Result run(List<String> args) {
    var command = new ArrayList<String>(prefix.size() + args.size());
    command.addAll(prefix);
    command.addAll(args);
    var builder = new ProcessBuilder(command).redirectInput(new File("/dev/null"));
    // No tty, so systemctl would not page or colour anyway; say so for any wrapper in between.
    builder.environment().put("SYSTEMD_PAGER", "");
    builder.environment().put("SYSTEMD_COLORS", "0");
    long started = System.nanoTime();
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new RuntimeFailure("could not start `" + render(command) + "`: " + e.getMessage(), e);
    }
    spawned.incrementAndGet();
    var out = drain(process.getInputStream(), "stdout");
    var err = drain(process.getErrorStream(), "stderr");
    boolean timedOut = false;
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        timedOut = true;
        kill(process);
      }
    } catch (InterruptedException e) {
      kill(process);
      Thread.currentThread().interrupt();
      throw new RuntimeFailure("interrupted while running `" + render(command) + "`", e);
    }
    int exit = timedOut ? -1 : process.exitValue();
    var result = new Result(List.copyOf(command), exit, timedOut, collect(out), collect(err));
    if (log.isDebugEnabled()) {
      log.debug("`{}` exited {} in {} ms", render(command), timedOut ? "(timed out)" : exit,
          (System.nanoTime() - started) / 1_000_000);
    }
    return result;
  }

  /**
   * Kills the command and what it spawned: {@code nsenter} forks to enter a PID namespace, and
   * a surviving {@code systemctl} child would keep our pipes open.
   */
  private static void kill(Process process) {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    try {
      process.waitFor(DRAIN.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static CompletableFuture<String> drain(InputStream in, String name) {
    var future = new CompletableFuture<String>();
    var reader = new Thread(() -> {
      try (in) {
        future.complete(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      } catch (IOException | RuntimeException e) {
        future.completeExceptionally(e);
      }
    }, "systemd-cmd-" + name);
    reader.setDaemon(true);
    reader.start();
    return future;
  }

  private static String collect(CompletableFuture<String> output) {
    try {
      return output.get(DRAIN.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    } catch (ExecutionException | TimeoutException e) {
      // A grandchild still holds the pipe, or reading failed: report what we have, i.e. nothing.
      return "";
    }
  }

  /** A command line for messages: long unit lists are cut to their first few names. */
  static String render(List<String> command) {
    int shown = 8;
    if (command.size() <= shown + 2) {
      return String.join(" ", command);
    }
    return String.join(" ", command.subList(0, shown)) + " … (+" + (command.size() - shown) + " more)";
  }
}
