package dev.flotilla.kv.compat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
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
    try (ClientRun r = ClientRun.start(command, env, null)) {
      whileRunning.run();
      ClientRun.Result res = r.finish(timeout, enough);
      return new ProcessRun(res.exitCode(), res.stdout(), res.stderr(), res.killed());
    }
  }
}
