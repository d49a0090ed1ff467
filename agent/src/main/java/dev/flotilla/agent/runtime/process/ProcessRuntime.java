package dev.flotilla.agent.runtime.process;

import dev.flotilla.agent.runtime.RuntimeFailure;
import dev.flotilla.agent.runtime.StateChanges;
import dev.flotilla.agent.runtime.UnitRuntime;
import dev.flotilla.agent.runtime.UnitStatus;
import dev.flotilla.scheduler.api.UnitHost.JournalPage;
import dev.flotilla.scheduler.unit.InvalidUnitNameException;
import dev.flotilla.scheduler.unit.UnitName;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs service units as supervised child processes, for hosts where systemd is not PID 1 (a
 * laptop, a container, CI), and reports them in systemd's words.
 *
 * <p>Under {@code stateDir} it keeps {@code units/} (the unit files it installed), {@code logs/}
 * ({@code <unit>.log}: the processes' stdout and stderr, appended by the processes themselves, and
 * the runtime's lines about the unit) and {@code run/} (the main process of each running unit, by
 * PID and start time). A runtime opened on the same directory after the agent died without
 * {@link #close()} adopts the main processes still running instead of starting them again.
 *
 * <p>Each command runs through util-linux {@code setsid} in a session and process group of its
 * own; a stop signals every process of the unit's sessions and their descendants (see
 * {@link UnitProcesses}). {@link #close()} stops every unit, so nothing outlives the agent.
 *
 * <p>One thread supervises all units ({@link ServiceSupervisor}); calls wait for it only for the
 * short part of their work (writing files, launching a process), never for a unit to finish
 * starting or stopping: {@link #start} reports what can be checked up front (a missing executable,
 * an invalid unit file), and later failures show as state {@code failed} and in the unit's log.
 */
public final class ProcessRuntime implements UnitRuntime {

  private static final Logger LOG = LoggerFactory.getLogger(ProcessRuntime.class);
  private static final DateTimeFormatter SINCE =
      DateTimeFormatter.ofPattern("EEE yyyy-MM-dd HH:mm:ss zzz").withZone(ZoneId.systemDefault());

  private final Path unitsDir;
  private final Path logsDir;
  private final UnitLogFiles logs;
  private final Path runDir;
  private final Clock clock;
  private final ScheduledThreadPoolExecutor executor;
  private final Thread supervisorThread;
  private final SupervisorContext ctx;
  private final Map<String, ServiceSupervisor> units = new ConcurrentHashMap<>();
  /** Units whose state the supervisor changed since the last {@link #changes()}. */
  private final Set<String> changed = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;
  private volatile Runnable changeSignal = () -> {};

  public ProcessRuntime(Path stateDir) {
    this(stateDir, Clock.systemDefaultZone());
  }

  /** {@code clock} gives the "since" times of states; timeouts use the JVM's monotonic clock. */
  public ProcessRuntime(Path stateDir, Clock clock) {
    this.unitsDir = stateDir.resolve("units");
    this.logsDir = stateDir.resolve("logs");
    this.logs = new UnitLogFiles(logsDir);
    this.runDir = stateDir.resolve("run");
    this.clock = clock;
    for (Path dir : List.of(unitsDir, logsDir, runDir)) {
      try {
        Files.createDirectories(dir);
      } catch (IOException e) {
        throw new RuntimeFailure("process runtime: cannot create " + dir + ": " + e.getMessage(), e);
      }
    }
    String setsid;
    try {
      setsid = ExecCommand.resolve("setsid", System.getenv("PATH")).toString();
    } catch (IllegalArgumentException e) {
      throw new RuntimeFailure("process runtime: util-linux 'setsid' is needed to run units in process groups "
          + "of their own, and it was not found in PATH=" + System.getenv("PATH") + "; install util-linux");
    }
    Thread[] thread = new Thread[1];
    this.executor = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "process-runtime");
      t.setDaemon(true);
      thread[0] = t;
      return t;
    });
    executor.setRemoveOnCancelPolicy(true);
    executor.prestartCoreThread();
    this.supervisorThread = thread[0];
    this.ctx = new SupervisorContext(executor, clock, unitsDir, logsDir, runDir, setsid,
        sup -> units.remove(sup.name(), sup), unit -> {
          changed.add(unit);
          changeSignal.run();
        });
    try {
      call(() -> {
        recover();
        return null;
      });
    } catch (RuntimeException e) {
      executor.shutdownNow();
      throw e;
    }
  }

  @Override
  public String name() {
    return "process";
  }

  @Override
  public void load(Map<String, String> unitFiles) {
    requireOpen();
    List<String> failures = call(() -> {
      requireOpen(); // close() may have stopped everything since the check above
      List<String> out = new ArrayList<>();
      unitFiles.forEach((name, text) -> {
        try {
          UnitName unitName = UnitName.parse(name);
          writeUnitFile(name, text);
          UnitDefinition d = UnitDefinition.of(unitName, text);
          units.computeIfAbsent(name, n -> new ServiceSupervisor(d, ctx)).define(d);
        } catch (InvalidUnitNameException e) {
          out.add(name + ": " + e.getMessage());
        } catch (IOException e) {
          out.add(name + ": cannot write " + unitsDir.resolve(name) + ": " + e.getMessage());
        }
      });
      return out;
    });
    throwIfAny("load", failures);
  }

  @Override
  public void unload(Collection<String> names) {
    requireOpen();
    List<String> failures = call(() -> {
      List<String> out = new ArrayList<>();
      for (String name : names) {
        if (!UnitName.isValid(name)) {
          continue; // it cannot have been installed
        }
        ServiceSupervisor sup = units.get(name);
        if (sup != null && sup.remove()) {
          units.remove(name, sup);
        }
        try {
          Files.deleteIfExists(unitsDir.resolve(name));
        } catch (IOException e) {
          out.add(name + ": cannot remove " + unitsDir.resolve(name) + ": " + e.getMessage());
        }
      }
      return out;
    });
    throwIfAny("unload", failures);
  }

  @Override
  public void start(Collection<String> names) {
    requireOpen();
    List<String> failures = call(() -> {
      requireOpen(); // close() may have stopped everything since the check above: start nothing after it
      List<String> out = new ArrayList<>();
      for (String name : names) {
        ServiceSupervisor sup = units.get(name);
        if (sup == null || sup.isRemoved()) {
          out.add(name + ": not loaded; load its unit file first");
          continue;
        }
        String problem = sup.start();
        if (problem != null) {
          out.add(problem);
        }
      }
      return out;
    });
    throwIfAny("start", failures);
  }

  @Override
  public void stop(Collection<String> names) {
    requireOpen();
    call(() -> {
      for (String name : names) {
        ServiceSupervisor sup = units.get(name);
        if (sup != null) {
          sup.stop();
        }
      }
      return null;
    });
  }

  @Override
  public Map<String, UnitStatus> states(Collection<String> names) {
    Map<String, UnitStatus> out = new LinkedHashMap<>();
    for (String name : names) {
      ServiceSupervisor sup = units.get(name);
      out.put(name, sup == null ? UnitStatus.NOT_FOUND : sup.view().status());
    }
    return out;
  }

  /** {@inheritDoc} The supervisor sees every change as it makes it: always live. */
  @Override
  public StateChanges changes() {
    if (changed.isEmpty()) {
      return StateChanges.NONE;
    }
    Set<String> out = new TreeSet<>();
    for (var it = changed.iterator(); it.hasNext(); ) {
      out.add(it.next());
      it.remove();
    }
    return new StateChanges(out, false, true);
  }

  @Override
  public void signalChangesTo(Runnable signal) {
    changeSignal = java.util.Objects.requireNonNull(signal);
  }

  @Override
  public Set<String> installed() {
    Set<String> out = new TreeSet<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(unitsDir)) {
      for (Path f : files) {
        String name = f.getFileName().toString();
        if (UnitName.isValid(name) && Files.isRegularFile(f)) {
          out.add(name);
        }
      }
    } catch (IOException e) {
      throw new RuntimeFailure("process runtime: cannot list " + unitsDir + ": " + e.getMessage(), e);
    }
    return out;
  }

  @Override
  public JournalPage journal(String unit, int lines) {
    return logs.tail(unit, lines);
  }

  @Override
  public JournalPage journalAfter(String unit, String cursor) {
    return logs.after(unit, cursor);
  }

  @Override
  public String status(String unit) {
    ServiceSupervisor sup = units.get(unit);
    StringBuilder sb = new StringBuilder();
    if (sup == null) {
      sb.append("○ ").append(unit).append('\n');
      sb.append("     Loaded: not-found (no unit file installed by this agent)\n");
      sb.append("     Active: inactive (dead)\n");
    } else {
      ServiceSupervisor.View v = sup.view();
      UnitStatus s = v.status();
      sb.append(s.isActive() ? "● " : s.activeState().equals("failed") ? "× " : "○ ").append(unit).append('\n');
      sb.append("     Loaded: ").append(s.loadState());
      if (v.definition().loadError() != null) {
        sb.append(" (Reason: ").append(v.definition().loadError()).append(')');
      } else if (!s.loadState().equals("not-found")) {
        sb.append(" (").append(unitsDir.resolve(unit)).append(')');
      }
      sb.append('\n');
      sb.append("     Active: ").append(s.activeState()).append(" (").append(s.subState()).append(')');
      if (s.activeState().equals("failed")) {
        sb.append(" (Result: ").append(v.result()).append(')');
      }
      sb.append(" since ").append(SINCE.format(v.since())).append("; ")
          .append(ago(Duration.between(v.since(), clock.instant()))).append(" ago\n");
      if (v.restarts() > 0) {
        sb.append("   Restarts: ").append(v.restarts()).append('\n');
      }
      if (s.mainPid() != 0) {
        sb.append("   Main PID: ").append(s.mainPid()).append(command(s.mainPid())).append('\n');
      }
      if (v.controlPid() != 0 && v.controlPid() != s.mainPid()) {
        sb.append("Control PID: ").append(v.controlPid()).append(command(v.controlPid())).append('\n');
      }
      if (v.failure() != null && !s.isActive()) {
        sb.append("      Cause: ").append(v.failure()).append('\n');
      }
    }
    List<String> tail = journal(unit, 10).lines();
    if (!tail.isEmpty()) {
      sb.append('\n');
      tail.forEach(l -> sb.append(l).append('\n'));
    }
    return sb.toString();
  }

  /**
   * Stops every unit and waits until their processes are gone (each unit's stop settings bound
   * the wait; past it, what is left gets SIGKILL), then ends the supervisor thread.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    Duration budget = Duration.ofSeconds(1);
    List<CompletableFuture<Void>> idle = new ArrayList<>();
    try {
      List<Duration> budgets = new ArrayList<>();
      call(() -> {
        for (ServiceSupervisor sup : units.values()) {
          sup.stop();
          idle.add(sup.whenIdle());
          budgets.add(sup.stopBudget());
        }
        return null;
      });
      for (Duration d : budgets) {
        budget = d.compareTo(budget) > 0 ? d : budget;
      }
      CompletableFuture.allOf(idle.toArray(CompletableFuture[]::new)).get(budget.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      LOG.warn("process runtime: units still stopping after {}; killing what is left", TimeSpans.format(budget));
      call(() -> {
        units.values().forEach(ServiceSupervisor::killNow);
        return null;
      });
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      call(() -> {
        units.values().forEach(ServiceSupervisor::killNow);
        return null;
      });
    } catch (ExecutionException | RuntimeException e) {
      LOG.warn("process runtime: close failed; killing what is left", e);
      call(() -> {
        units.values().forEach(ServiceSupervisor::killNow);
        return null;
      });
    } finally {
      executor.shutdownNow();
    }
  }

  // ---- recovery after an agent restart ----

  /**
   * Loads the installed unit files, then looks at what a previous agent left in {@code run/}: a
   * main process still running is adopted; a control command (an ExecStartPre= cut short) is
   * killed, since the sequence it belonged to is lost; a process whose unit file is gone, too.
   */
  private void recover() throws IOException {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(unitsDir)) {
      for (Path f : files) {
        String name = f.getFileName().toString();
        if (!UnitName.isValid(name) || !Files.isRegularFile(f)) {
          continue;
        }
        UnitDefinition d = UnitDefinition.of(UnitName.parse(name), Files.readString(f, StandardCharsets.UTF_8));
        ServiceSupervisor sup = new ServiceSupervisor(d, ctx);
        sup.define(d);
        units.put(name, sup);
      }
    }
    List<Path> records = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(runDir)) {
      files.forEach(records::add);
    }
    records.sort(null);
    for (Path f : records) {
      String file = f.getFileName().toString();
      int dot = file.lastIndexOf('.');
      String unit = dot < 0 ? file : file.substring(0, dot);
      String kind = dot < 0 ? "" : file.substring(dot + 1);
      Optional<RunRecord> record = RunRecord.read(f);
      ServiceSupervisor sup = units.get(unit);
      boolean runnable = sup != null && sup.view().definition().spec() != null;
      switch (kind) {
        case "pid" -> {
          Optional<ProcessHandle> live = record.flatMap(RunRecord::live);
          if (live.isPresent() && runnable) {
            sup.adopt(record.get(), live.get());
            continue; // the supervisor owns the record now
          }
          live.ifPresent(h -> kill(h, unit, "its unit file is gone or invalid"));
        }
        case "control" -> record.flatMap(RunRecord::live)
            .ifPresent(h -> kill(h, unit, "the command was cut short by the agent's restart"));
        case "exited" -> {
          if (record.isPresent() && runnable && sup.view().definition().spec().remainAfterExit()) {
            sup.adoptExited(record.get());
            continue;
          }
        }
        default -> { }
      }
      Files.deleteIfExists(f);
    }
  }

  private static void kill(ProcessHandle h, String unit, String why) {
    LOG.warn("{}: killing process {} left by a previous agent: {}", unit, h.pid(), why);
    UnitProcesses p = new UnitProcesses();
    p.addSession(h.pid());
    p.sweep(9);
  }

  // ---- helpers ----

  private void writeUnitFile(String name, String text) throws IOException {
    Path target = unitsDir.resolve(name);
    Path tmp = unitsDir.resolve("." + name + ".tmp");
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static String command(long pid) {
    return ProcessHandle.of(pid).flatMap(h -> h.info().command())
        .map(c -> " (" + Path.of(c).getFileName() + ")").orElse("");
  }

  private static String ago(Duration d) {
    long s = Math.max(0, d.getSeconds());
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return s / 60 + "min " + s % 60 + "s";
    }
    return s / 3600 + "h " + s % 3600 / 60 + "min";
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("process runtime is closed");
    }
  }

  private static void throwIfAny(String action, List<String> failures) {
    if (!failures.isEmpty()) {
      throw new RuntimeFailure(failures.size() == 1 ? failures.get(0)
          : action + " failed for " + failures.size() + " units: " + String.join("; ", failures));
    }
  }

  /** Runs {@code task} on the supervisor thread and waits for it (directly when already there). */
  private <T> T call(Callable<T> task) {
    try {
      if (Thread.currentThread() == supervisorThread) {
        return task.call();
      }
      Future<T> f = executor.submit(task);
      return f.get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      throw new RuntimeFailure("process runtime: " + cause, cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RuntimeFailure("process runtime: interrupted while waiting for the supervisor thread", e);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new RuntimeFailure("process runtime: " + e, e);
    }
  }
}
