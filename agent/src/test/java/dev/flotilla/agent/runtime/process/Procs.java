package dev.flotilla.agent.runtime.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** What the tests read of processes, through /proc: a zombie (PID 1 here may not reap) is not alive. */
final class Procs {

  private Procs() {}

  static boolean alive(long pid) {
    return ProcTable.read(pid).map(e -> !e.zombie()).orElse(false);
  }

  static List<Long> alive(List<Long> pids) {
    return pids.stream().filter(Procs::alive).toList();
  }

  static ProcTable.Entry stat(long pid) {
    return ProcTable.read(pid).orElseThrow(() -> new AssertionError("no process " + pid));
  }

  /** The command line, words joined by blanks ("" when gone). */
  static String cmdline(long pid) {
    try {
      return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8)
          .replace('\0', ' ').strip();
    } catch (IOException e) {
      return "";
    }
  }

  /** {@code pid} and its live descendants. */
  static List<Long> tree(long pid) {
    List<Long> out = new ArrayList<>();
    out.add(pid);
    ProcessHandle.of(pid).ifPresent(h -> h.descendants().forEach(d -> out.add(d.pid())));
    return out;
  }

  /** Live processes of these sessions, and their descendants: what a unit leaves behind. */
  static List<Long> unitProcesses(Set<Long> sessions) {
    UnitProcesses p = new UnitProcesses();
    sessions.forEach(p::addSession);
    return p.members();
  }

  /** SIGKILLs what is left of these sessions: teardown, so that no test leaves a process behind. */
  static void killSessions(Set<Long> sessions) {
    UnitProcesses p = new UnitProcesses();
    sessions.forEach(p::addSession);
    p.sweep(9);
  }

  static void await(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + what);
      }
      pause();
    }
  }

  static <T> T await(String what, Duration timeout, Supplier<T> value, Predicate<T> ok,
      Supplier<String> diagnostics) {
    long deadline = System.nanoTime() + timeout.toNanos();
    T v = value.get();
    while (!ok.test(v)) {
      if (System.nanoTime() - deadline > 0) {
        assertThat(v).as("timed out after %d ms waiting for %s; %s", timeout.toMillis(), what, diagnostics.get())
            .matches(ok);
      }
      pause();
      v = value.get();
    }
    return v;
  }

  private static void pause() {
    try {
      Thread.sleep(10); // polling interval, not a wait for a condition
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted");
    }
  }
}
