package dev.flotilla.kv.compat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A client process run by a compat test (etcdctl, python): its output, its exit code. The
 * process is the test's: it is killed, with its children, when it overruns or is no longer needed.
 */
record ProcessRun(int exitCode, String stdout, String stderr, boolean killed) {

  /** Runs {@code command} to completion (or kills it after {@code timeout}). */
  static ProcessRun run(List<String> command, Map<String, String> env, Duration timeout) {
    return run(command, env, timeout, () -> { }, null);
  }

  /**
   * Starts {@code command}, runs {@code whileRunning} (the write a watching client waits for),
   * then waits for it to exit, or, if {@code enough} is given, until its stdout satisfies it
   * and kills it then (a client that would run forever, such as {@code etcdctl exec-watch}).
   */
  static ProcessRun run(List<String> command, Map<String, String> env, Duration timeout, Runnable whileRunning,
      Predicate<String> enough) {
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().putAll(env);
    pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + command, e);
    }
    Thread hook = new Thread(() -> kill(p), "kill-" + p.pid());
    Runtime.getRuntime().addShutdownHook(hook);
    Collector out = new Collector(p.getInputStream());
    Collector err = new Collector(p.getErrorStream());
    out.start();
    err.start();
    boolean killed = false;
    try {
      whileRunning.run();
      long deadline = System.nanoTime() + timeout.toNanos();
      if (enough != null) {
        while (!enough.test(out.text()) && p.isAlive() && System.nanoTime() < deadline) {
          p.waitFor(20, TimeUnit.MILLISECONDS); // poll interval; the loop re-checks the output
        }
        killed = p.isAlive();
        kill(p);
      } else if (!p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        killed = true;
        kill(p);
      }
      out.join(5_000);
      err.join(5_000);
      return new ProcessRun(p.exitValue(), out.text(), err.text(), killed);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      kill(p);
      throw new IllegalStateException("interrupted while running " + command, e);
    } finally {
      kill(p);
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException ignored) {
        // shutting down: the hook runs anyway
      }
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

  /** Drains one output stream of the process so that it never blocks on a full pipe. */
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
