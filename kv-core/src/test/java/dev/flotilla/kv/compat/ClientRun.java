package dev.flotilla.kv.compat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A client process (etcdctl, python) owned by a test: started with its stdin text, drained so
 * that it never blocks, and killed with its children when it overruns or is no longer wanted.
 */
public final class ClientRun implements AutoCloseable {
  /** What the process did: exit code (-1 when it was killed), stdout, stderr. */
  public record Result(int exitCode, String stdout, String stderr, boolean killed) {
  }

  private final List<String> command;
  private final Process process;
  private final Thread hook;
  private final Collector out;
  private final Collector err;

  private ClientRun(List<String> command, Process process, Thread hook, Collector out, Collector err) {
    this.command = command;
    this.process = process;
    this.hook = hook;
    this.out = out;
    this.err = err;
  }

  /** Starts {@code command}; {@code stdin} (may be null) is written and closed. */
  public static ClientRun start(List<String> command, Map<String, String> env, String stdin) {
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().putAll(env);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + command, e);
    }
    Thread hook = new Thread(() -> kill(p), "kill-client-" + p.pid());
    Runtime.getRuntime().addShutdownHook(hook);
    Collector out = new Collector(p.getInputStream());
    Collector err = new Collector(p.getErrorStream());
    out.start();
    err.start();
    try (OutputStream in = p.getOutputStream()) {
      if (stdin != null) {
        in.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      // the process exited before reading its input: its exit code tells
    }
    return new ClientRun(command, p, hook, out, err);
  }

  /** Runs {@code command} to its end, or kills it after {@code timeout}. */
  public static Result run(List<String> command, Map<String, String> env, String stdin, Duration timeout) {
    try (ClientRun r = start(command, env, stdin)) {
      return r.finish(timeout, null);
    }
  }

  /**
   * Waits until the process exits or, if {@code enough} is given, until its stdout satisfies it
   * (then kills it: a watch never ends by itself); kills it at {@code timeout} in any case.
   */
  public Result finish(Duration timeout, Predicate<String> enough) {
    long deadline = System.nanoTime() + timeout.toNanos();
    boolean killed = false;
    try {
      if (enough != null) {
        while (!enough.test(out.text()) && process.isAlive() && System.nanoTime() < deadline) {
          process.waitFor(20, TimeUnit.MILLISECONDS); // poll interval; the loop re-checks the output
        }
        killed = process.isAlive();
      } else if (!process.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        killed = true;
      }
      if (!process.isAlive()) {
        // drain first: destroying a Process closes its streams, losing what was not read yet
        out.join(5_000);
        err.join(5_000);
      }
      kill(process);
      out.join(5_000);
      err.join(5_000);
      return new Result(killed ? -1 : process.exitValue(), out.text(), err.text(), killed);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + command, e);
    }
  }

  public String stdoutSoFar() {
    return out.text();
  }

  @Override
  public void close() {
    kill(process);
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // the JVM is shutting down; the hook runs anyway
    }
  }

  private static void kill(Process p) {
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
    try {
      p.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Drains one output stream of the process. */
  private static final class Collector extends Thread {
    private final InputStream in;
    private final ByteArrayOutputStream buf = new ByteArrayOutputStream();

    Collector(InputStream in) {
      this.in = in;
      setDaemon(true);
    }

    @Override
    public void run() {
      byte[] chunk = new byte[4096];
      try {
        int n;
        while ((n = in.read(chunk)) > 0) {
          synchronized (buf) {
            buf.write(chunk, 0, n);
          }
        }
      } catch (IOException e) {
        // the process was killed
      }
    }

    String text() {
      synchronized (buf) {
        return buf.toString(StandardCharsets.UTF_8);
      }
    }
  }
}
