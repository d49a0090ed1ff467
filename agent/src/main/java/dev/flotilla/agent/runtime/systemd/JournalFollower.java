package dev.flotilla.agent.runtime.systemd;

import dev.flotilla.agent.runtime.StateChanges;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Learns which units changed state from systemd's own log, with one long-lived
 * {@code journalctl -f _PID=1} child instead of polling: PID 1 logs every start, stop, exit and
 * failure of a unit with the unit's name in the {@code UNIT=} field ("Started x.service",
 * "x.service: Main process exited, code=killed", "Failed with result", "Deactivated
 * successfully", "Scheduled restart job", …), also when a process dies behind the agent's back. It
 * costs systemd nothing it does not already do (it logs these lines anyway), unlike a D-Bus
 * subscription, which makes PID 1 serialize every property change of every unit.
 *
 * <p>PID 1 logs the line in the same turn of its event loop as it changes the state, so a
 * {@code systemctl show} sent after the line arrived sees the new state. journald hands lines to
 * followers about 250 ms after it wrote them (it coalesces change notifications), so a change is
 * seen within about 0.3 s.
 *
 * <p>Lines that name no state change (a sub state of a socket or timer that flips without a log
 * line, a unit with {@code LogLevelMax=} below info, a host whose journald stores nothing) are
 * what the agent's slow safety poll is for.
 *
 * <p>The child is restarted when it dies (after 1 s, doubling to 30 s while it keeps dying), from
 * the cursor of the last entry seen ({@code --after-cursor}), so nothing in between is lost; a
 * first start ({@code -n 1}) reports "read everything" once the first entry shows that it reached
 * the end of the journal. A thread of its own reads the child's output; the agent's thread only
 * drains what it found ({@link #drain}). {@code journalctl -f} exits by itself when its stdout
 * closes, so a follower does not outlive an agent killed with SIGKILL. Needs journalctl 236 or
 * later ({@code --output-fields}); with an older one, or no journal, the child keeps failing, the
 * runtime never says live, and the agent polls.
 */
final class JournalFollower implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(JournalFollower.class);
  private static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
  /** A child that ran this long was healthy: the next restart waits only {@link #FIRST_BACKOFF}. */
  private static final Duration HEALTHY_RUN = Duration.ofSeconds(60);
  /** A field line of journalctl's export format (anything else it prints is a message). */
  private static final Pattern FIELD = Pattern.compile("[A-Z0-9_]+=.*");

  private final List<String> prefix;
  private final AtomicLong spawned = new AtomicLong();
  private final Thread thread;

  // guarded by this
  private final Set<String> changed = new HashSet<>();
  private boolean all;
  private boolean live;
  private String cursor;
  private Process process;
  private boolean closed;

  /** Run when a change is recorded (or the follower goes live): wakes the agent. */
  private final Runnable signal;

  JournalFollower(List<String> prefix, Runnable signal) {
    this.prefix = List.copyOf(prefix);
    this.signal = signal;
    this.thread = new Thread(this::run, "systemd-journal-follower");
    thread.setDaemon(true);
  }

  JournalFollower start() {
    thread.start();
    return this;
  }

  /** What was seen since the last call (and whether the follower is live now). */
  synchronized StateChanges drain() {
    if (changed.isEmpty() && !all) {
      return live ? StateChanges.NONE : StateChanges.NOT_FOLLOWED;
    }
    var out = new StateChanges(changed, all, live);
    changed.clear();
    all = false;
    return out;
  }

  /** journalctl processes started so far (restarts included). */
  long spawned() {
    return spawned.get();
  }

  /** The child's PID ({@code nsenter}'s under a prefix), if one runs: tests kill it. */
  synchronized OptionalLong pid() {
    return process != null && process.isAlive() ? OptionalLong.of(process.pid()) : OptionalLong.empty();
  }

  synchronized boolean isLive() {
    return live;
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      live = false;
      if (process != null) {
        kill(process);
      }
    }
    thread.interrupt();
    try {
      thread.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void run() {
    Duration backoff = FIRST_BACKOFF;
    while (true) {
      long started = System.nanoTime();
      String outcome = follow();
      synchronized (this) {
        live = false;
        if (closed) {
          return;
        }
      }
      if (System.nanoTime() - started > HEALTHY_RUN.toNanos()) {
        backoff = FIRST_BACKOFF;
      }
      log.warn("following systemd's journal stopped ({}); restarting in {} s, polling unit states meanwhile",
          outcome, backoff.toSeconds());
      try {
        Thread.sleep(backoff.toMillis());
      } catch (InterruptedException e) {
        return; // closed
      }
      backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
    }
  }

  /** Runs one journalctl until it ends; returns why it ended. */
  private String follow() {
    String from;
    synchronized (this) {
      from = cursor;
    }
    var command = new ArrayList<>(prefix);
    command.addAll(List.of("journalctl", "--follow", "--no-pager", "--output=export", "--output-fields=UNIT"));
    command.add(from == null ? "--lines=1" : "--after-cursor=" + from);
    command.add("_PID=1");
    Process p;
    synchronized (this) {
      if (closed) {
        return "closed";
      }
      try {
        p = new ProcessBuilder(command).redirectInput(new File("/dev/null")).redirectErrorStream(true).start();
      } catch (IOException e) {
        return "could not start `" + CommandRunner.render(command) + "`: " + e.getMessage();
      }
      spawned.incrementAndGet();
      process = p;
      // From a cursor, nothing after it can be missed: live at once. Without one, live (and
      // everything to be read again) once the first entry shows the end of the journal reached.
      live = from != null;
    }
    log.debug("following systemd's journal: `{}` (PID {})", CommandRunner.render(command), p.pid());
    String lastMessage = null;
    int entries = 0;
    try (var in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String unit = null;
      String entryCursor = null;
      String line;
      while ((line = in.readLine()) != null) {
        if (line.isEmpty()) {
          if (entryCursor != null) {
            entries++;
            entryEnded(unit, entryCursor);
          }
          unit = null;
          entryCursor = null;
        } else if (line.startsWith("__CURSOR=")) {
          entryCursor = line.substring("__CURSOR=".length());
        } else if (line.startsWith("UNIT=")) {
          unit = line.substring("UNIT=".length());
        } else if (!FIELD.matcher(line).matches()) {
          lastMessage = line.strip();
          log.warn("journalctl: {}", lastMessage);
        }
      }
    } catch (IOException e) {
      lastMessage = "reading its output failed: " + e.getMessage();
    }
    kill(p);
    String exit = p.isAlive() ? "still running" : "exited " + p.exitValue();
    if (entries == 0 && from != null) {
      synchronized (this) {
        cursor = null; // a cursor journalctl refused (journal rotated away): start from the end
      }
    }
    return "`" + CommandRunner.render(command) + "` " + exit + (lastMessage == null ? "" : ": " + lastMessage);
  }

  private void entryEnded(String unit, String entryCursor) {
    boolean news;
    synchronized (this) {
      news = !live || unit != null;
      if (!live) {
        live = true; // the end of the journal reached: from here on nothing is missed
        all = true;
      }
      cursor = entryCursor;
      if (unit != null) {
        changed.add(unit);
      }
    }
    if (news) {
      signal.run();
    }
  }

  /** Kills the child and, under nsenter, the journalctl nsenter forked. */
  private static void kill(Process p) {
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
    try {
      p.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
