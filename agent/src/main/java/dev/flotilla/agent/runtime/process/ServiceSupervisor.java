package dev.flotilla.agent.runtime.process;

import dev.flotilla.agent.runtime.UnitStatus;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one unit as systemd's service.c would, with child processes instead of cgroups: the start
 * sequence, the main process, restarts, the stop sequence (see {@link Phase}).
 *
 * <p>Everything here runs on the runtime's one supervisor thread: calls from the runtime, process
 * exits (hopped over from the JDK's reaper) and timers. Nothing blocks that thread: a step launches
 * a process or arms a timer and returns, and the next step is that event's handler. Readers on other
 * threads see only {@link #view()}, an immutable snapshot published after each change.
 */
final class ServiceSupervisor {

  private static final Logger LOG = LoggerFactory.getLogger(ServiceSupervisor.class);
  private static final long SWEEP_MILLIS = 20;
  /** How long processes may linger after SIGKILL when TimeoutStopSec=infinity. */
  private static final Duration KILL_WAIT = Duration.ofSeconds(10);
  private static final DateTimeFormatter LOG_TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(ZoneId.systemDefault());
  /** Variables a service inherits from the agent; the rest of the agent's environment is not its business. */
  private static final List<String> INHERITED = List.of("PATH", "LANG", "LC_ALL", "HOME", "USER", "LOGNAME",
      "SHELL", "TZ", "TMPDIR");

  /** A process this supervisor watches; {@code process} is null for one adopted after an agent restart. */
  private record Child(ProcessHandle handle, Process process, ExecCommand command) {
    long pid() {
      return handle.pid();
    }
  }

  /** What other threads may read: the state and what status() prints. */
  record View(UnitStatus status, Instant since, String result, String failure, long controlPid,
      UnitDefinition definition, int restarts) {}

  private final String name;
  private final SupervisorContext ctx;
  private final Path log;
  private final UnitProcesses procs = new UnitProcesses();
  private final Deque<Long> startTimes = new ArrayDeque<>();
  private final List<CompletableFuture<Void>> idleWaiters = new ArrayList<>();

  private UnitDefinition definition;
  private boolean removed;
  private Phase phase = Phase.DEAD;
  private Instant since;
  /** The settings of the current activation: a load during it applies from the next start. */
  private ServiceSpec spec;
  private Map<String, String> env = Map.of();
  private Result result = Result.SUCCESS;
  private String failure;
  private Child main;
  private ExitStatus mainExit;
  private Child control;
  private ScheduledFuture<?> timer;
  private boolean stopRequested;
  private boolean startAfterStop;
  private int restarts;
  private volatile View view;

  ServiceSupervisor(UnitDefinition definition, SupervisorContext ctx) {
    this.name = definition.name().name();
    this.ctx = ctx;
    this.definition = definition;
    this.log = ctx.logsDir().resolve(name + ".log");
    this.since = ctx.clock().instant();
    publish();
  }

  String name() {
    return name;
  }

  View view() {
    return view;
  }

  boolean isRemoved() {
    return removed;
  }

  boolean isIdle() {
    return phase.isIdle();
  }

  /** Completes when the unit is inactive or failed, with nothing running. */
  CompletableFuture<Void> whenIdle() {
    if (phase.isIdle()) {
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> f = new CompletableFuture<>();
    idleWaiters.add(f);
    return f;
  }

  /** How long a stop may take, from its settings: for close() to know how long to wait. */
  Duration stopBudget() {
    ServiceSpec s = spec != null ? spec : definition.spec();
    if (s == null || s.timeoutStopSec().equals(TimeSpans.INFINITY)) {
      return Duration.ofSeconds(90);
    }
    return s.timeoutStopSec().multipliedBy(s.execStop().size() + s.execStopPost().size() + 4).plusSeconds(2);
  }

  // ---- calls from the runtime (supervisor thread) ----

  void define(UnitDefinition d) {
    definition = d;
    removed = false;
    if (d.spec() != null && !d.spec().ignoredSettings().isEmpty()) {
      LOG.warn("{}: ignoring [Service] settings the process runtime does not support: {}", name,
          String.join(", ", d.spec().ignoredSettings()));
    }
    if (d.loadError() != null) {
      LOG.warn("{}: loaded with errors: {}", name, d.loadError());
    }
    publish();
  }

  /** Unloads: stops, and returns whether the unit is already idle (so the runtime may drop it now). */
  boolean remove() {
    removed = true;
    stop();
    publish();
    return phase.isIdle();
  }

  /** Starts the unit unless it runs; returns a one-line failure, or null. */
  String start() {
    if (definition.loadError() != null) {
      return name + ": cannot start, the unit file is invalid: " + definition.loadError();
    }
    if (definition.spec() == null) {
      return name + ": the process runtime only runs services; a ." + definition.name().type().suffix()
          + " unit needs systemd (run fleetd with --runtime=systemd)";
    }
    if (phase.isStopping()) {
      startAfterStop = true;
      return null;
    }
    if (phase == Phase.AUTO_RESTART) {
      cancelTimer();
      return begin(false);
    }
    return phase.isIdle() ? begin(false) : null;
  }

  void stop() {
    startAfterStop = false;
    switch (phase) {
      case DEAD, FAILED -> { }
      case AUTO_RESTART -> {
        cancelTimer();
        stopRequested = true;
        note("Stopped (it was waiting to restart).");
        moveTo(Phase.DEAD);
        forgetIfRemoved();
      }
      case START_PRE, START, START_POST -> {
        stopRequested = true;
        note("Stopping while it starts...");
        enterSignal(Phase.STOP_SIGTERM, Result.SUCCESS);
      }
      case RUNNING, EXITED -> {
        stopRequested = true;
        note("Stopping...");
        enterStop();
      }
      default -> stopRequested = true; // already on its way down; make sure it does not restart
    }
  }

  /** Takes over a main process a previous agent left running. */
  void adopt(RunRecord record, ProcessHandle handle) {
    spec = definition.spec();
    try {
      env = environment(spec);
    } catch (IllegalArgumentException e) {
      env = baseEnvironment(spec); // only ExecStop= and ExecStopPost= will use it
    }
    result = Result.SUCCESS;
    failure = null;
    stopRequested = false;
    procs.clear();
    procs.addSession(handle.pid());
    Child c = new Child(handle, null, spec.execStart().get(0));
    main = c;
    mainExit = null;
    moveTo(Phase.RUNNING);
    since = record.since();
    publish();
    handle.onExit().thenRunAsync(guarded(() -> onMainExit(c, ExitStatus.UNKNOWN)), ctx.executor());
    note("Adopted main process " + handle.pid() + ", left running by a previous agent.");
  }

  /** Remembers a oneshot that had finished with RemainAfterExit=yes before an agent restart. */
  void adoptExited(RunRecord record) {
    spec = definition.spec();
    env = baseEnvironment(spec);
    moveTo(Phase.EXITED);
    since = record.since();
    publish();
  }

  /** close() ran out of time: SIGKILL whatever is left. */
  void killNow() {
    procs.sweep(9);
  }

  // ---- the start sequence ----

  private String begin(boolean automatic) {
    ServiceSpec s = definition.spec();
    if (!startLimitAllows(s)) {
      result = Result.START_LIMIT_HIT;
      failure = name + ": start request repeated too quickly (" + s.startLimitBurst() + " starts within "
          + TimeSpans.format(s.startLimitInterval()) + ", StartLimitBurst=/StartLimitIntervalSec=); "
          + "fix the service, then start it again";
      note("Start request repeated too quickly.");
      note("Failed with result 'start-limit-hit'.");
      moveTo(Phase.FAILED);
      return failure;
    }
    Map<String, String> environment;
    try {
      environment = environment(s);
      checkStart(s, environment);
    } catch (IllegalArgumentException e) {
      result = Result.RESOURCES;
      failure = name + ": " + e.getMessage();
      note("Failed to start: " + e.getMessage());
      moveTo(Phase.FAILED);
      return failure;
    }
    spec = s;
    env = environment;
    result = Result.SUCCESS;
    failure = null;
    stopRequested = false;
    main = null;
    mainExit = null;
    control = null;
    procs.clear();
    if (!automatic) {
      restarts = 0;
      UnitLog.rotateIfLarge(log);
    }
    note("Starting...");
    runControls(Phase.START_PRE, s.execStartPre(), 0, s.timeoutStartSec(), this::enterStart);
    return null;
  }

  private void enterStart() {
    if (spec.type() == ServiceType.ONESHOT) {
      runControls(Phase.START, spec.execStart(), 0, spec.timeoutStartSec(), this::enterStartPost);
      return;
    }
    moveTo(Phase.START);
    ExecCommand cmd = spec.execStart().get(0);
    Child c;
    try {
      c = launch(cmd);
    } catch (IllegalArgumentException e) {
      fail(Result.RESOURCES, name + ": " + e.getMessage());
      note("Failed to run " + e.getMessage());
      enterSignal(Phase.STOP_SIGTERM, Result.SUCCESS);
      return;
    }
    main = c;
    writeRecord("pid", RunRecord.of(c.handle(), since));
    publish();
    watch(c, status -> onMainExit(c, status));
    enterStartPost();
  }

  private void enterStartPost() {
    runControls(Phase.START_POST, spec.execStartPost(), 0, spec.timeoutStartSec(), this::enterRunning);
  }

  private void enterRunning() {
    if (main != null && mainExit == null) {
      note("Started.");
      moveTo(Phase.RUNNING);
    } else if (spec.remainAfterExit() && result == Result.SUCCESS) {
      note("Finished.");
      moveTo(Phase.EXITED);
      writeRecord("exited", new RunRecord(0, 0, since));
    } else {
      // nothing left running: a oneshot that does not remain, or a main process that already ended
      if (spec.type() == ServiceType.ONESHOT && result == Result.SUCCESS) {
        note("Finished.");
      }
      enterStop();
    }
  }

  // ---- the stop sequence ----

  private void enterStop() {
    deleteRecord("exited");
    runControls(Phase.STOP, spec.execStop(), 0, spec.timeoutStopSec(),
        () -> enterSignal(Phase.STOP_SIGTERM, Result.SUCCESS));
  }

  /** Signals every process of the activation, then waits (sweeping again) until none is left. */
  private void enterSignal(Phase sigPhase, Result r) {
    fail(r, null);
    cancelTimer();
    if (control != null) {
      control = null; // it is swept with the rest; its exit is no longer a step's end
      deleteRecord("control");
    }
    moveTo(sigPhase);
    int signal = sigPhase == Phase.STOP_SIGKILL || sigPhase == Phase.FINAL_SIGKILL ? 9 : 15;
    if (procs.sweep(signal) == 0) {
      afterSignal(sigPhase);
      return;
    }
    Duration wait = signal == 9 && spec.timeoutStopSec().equals(TimeSpans.INFINITY) ? KILL_WAIT : spec.timeoutStopSec();
    long deadline = wait.equals(TimeSpans.INFINITY) ? Long.MAX_VALUE : System.nanoTime() + wait.toNanos();
    timer = ctx.executor().scheduleWithFixedDelay(guarded(() -> sweepUntilGone(sigPhase, signal, deadline)),
        SWEEP_MILLIS, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
  }

  private void sweepUntilGone(Phase sigPhase, int signal, long deadline) {
    if (phase != sigPhase) {
      return;
    }
    if (procs.sweep(signal) == 0) {
      cancelTimer();
      afterSignal(sigPhase);
    } else if (System.nanoTime() - deadline >= 0) {
      cancelTimer();
      if (signal == 15) {
        note("State '" + sigPhase.subState() + "' timed out after " + TimeSpans.format(spec.timeoutStopSec())
            + ". Killing.");
        fail(Result.TIMEOUT, name + ": processes did not exit within TimeoutStopSec="
            + TimeSpans.format(spec.timeoutStopSec()) + " of SIGTERM and were killed");
        enterSignal(sigPhase == Phase.STOP_SIGTERM ? Phase.STOP_SIGKILL : Phase.FINAL_SIGKILL, Result.TIMEOUT);
      } else {
        note("Processes " + procs.members() + " still around after SIGKILL. Ignoring.");
        fail(Result.TIMEOUT, name + ": processes " + procs.members() + " survived SIGKILL");
        afterSignal(sigPhase);
      }
    }
  }

  private void afterSignal(Phase sigPhase) {
    if (sigPhase == Phase.STOP_SIGTERM || sigPhase == Phase.STOP_SIGKILL) {
      enterStopPost();
    } else {
      enterDead();
    }
  }

  private void enterStopPost() {
    deleteRecord("pid");
    runControls(Phase.STOP_POST, spec.execStopPost(), 0, spec.timeoutStopSec(),
        () -> enterSignal(Phase.FINAL_SIGTERM, Result.SUCCESS));
  }

  private void enterDead() {
    cancelTimer();
    main = null;
    control = null;
    procs.clear();
    deleteRecord("pid");
    deleteRecord("control");
    deleteRecord("exited");
    if (!stopRequested && !startAfterStop && spec.restart().restartsAfter(result)) {
      // the log line comes before the state, so that whoever sees the state finds the line
      note((result == Result.SUCCESS ? "Deactivated" : "Failed with result '" + result.word() + "'")
          + "; scheduled restart in " + TimeSpans.format(spec.restartSec()) + ", restart counter is at "
          + (restarts + 1) + ".");
      moveTo(Phase.AUTO_RESTART);
      timer = ctx.executor().schedule(guarded(this::autoRestart), spec.restartSec().toNanos(), TimeUnit.NANOSECONDS);
      return;
    }
    if (result == Result.SUCCESS) {
      note("Deactivated successfully.");
      moveTo(Phase.DEAD);
    } else {
      note("Failed with result '" + result.word() + "'.");
      moveTo(Phase.FAILED);
    }
    if (startAfterStop && !removed) {
      startAfterStop = false;
      String problem = begin(false);
      if (problem != null) {
        LOG.warn("{}", problem);
      }
    } else {
      forgetIfRemoved();
    }
  }

  private void autoRestart() {
    if (phase != Phase.AUTO_RESTART) {
      return;
    }
    timer = null;
    restarts++;
    String problem = begin(true);
    if (problem != null) {
      LOG.warn("{}", problem);
    }
  }

  // ---- process events ----

  private void onMainExit(Child c, ExitStatus status) {
    if (c != main || mainExit != null) {
      return;
    }
    mainExit = status;
    deleteRecord("pid");
    publish();
    ExitStatus.Kind kind = status.kind();
    Result r = kind == ExitStatus.Kind.UNKNOWN && phase.isStopping()
        ? Result.SUCCESS // we stopped an adopted process: its end is the one asked for
        : status.mainResult(spec.type() == ServiceType.ONESHOT);
    note("Main process " + c.pid() + " exited, " + status.describe());
    fail(r, name + ": main process exited, " + status.describe());
    if (phase == Phase.RUNNING) {
      enterStop();
    }
    // in START_POST, enterRunning finds it gone; while stopping, the sweep finds it gone
  }

  /** Runs {@code cmds[index..]} one after another as control processes in {@code p}, then {@code then}. */
  private void runControls(Phase p, List<ExecCommand> cmds, int index, Duration timeout, Runnable then) {
    if (index == 0) {
      moveTo(p);
    }
    if (index == cmds.size()) {
      then.run();
      return;
    }
    ExecCommand cmd = cmds.get(index);
    Runnable next = () -> runControls(p, cmds, index + 1, timeout, then);
    Child c;
    try {
      c = launch(cmd);
    } catch (IllegalArgumentException e) {
      note("Failed to run " + e.getMessage());
      if (cmd.ignoreFailure()) {
        next.run();
      } else {
        failStep(Result.RESOURCES, name + ": " + e.getMessage());
      }
      return;
    }
    control = c;
    writeRecord("control", RunRecord.of(c.handle(), since));
    publish();
    if (!timeout.equals(TimeSpans.INFINITY)) {
      timer = ctx.executor().schedule(guarded(() -> {
        if (control == c) {
          timer = null;
          note(cmd.describe() + ": timed out after " + TimeSpans.format(timeout) + ". Terminating.");
          failStep(Result.TIMEOUT, name + ": " + cmd.describe() + ": timed out after " + TimeSpans.format(timeout));
        }
      }), timeout.toNanos(), TimeUnit.NANOSECONDS);
    }
    watch(c, status -> {
      if (control != c) {
        return; // swept by a stop, or a failure elsewhere: no longer a step of the sequence
      }
      cancelTimer();
      control = null;
      deleteRecord("control");
      procs.pruneSession(c.pid());
      publish();
      if (status.success()) {
        next.run();
      } else if (cmd.ignoreFailure()) {
        note(cmd.describe() + ": exited, " + status.describe() + " (ignored)");
        next.run();
      } else {
        note(cmd.describe() + ": exited, " + status.describe());
        Result r = p == Phase.START ? status.mainResult(true) : status.controlResult();
        failStep(r, name + ": " + cmd.describe() + ": exited, " + status.describe());
      }
    });
  }

  /** A step of a sequence failed: go down, killing what runs. */
  private void failStep(Result r, String why) {
    fail(r, why);
    enterSignal(phase == Phase.STOP_POST ? Phase.FINAL_SIGTERM : Phase.STOP_SIGTERM, Result.SUCCESS);
  }

  /** Records the first failure of the activation: later ones follow from it and are not the story. */
  private void fail(Result r, String why) {
    if (r != Result.SUCCESS && result == Result.SUCCESS) {
      result = r;
      if (why != null) {
        failure = why;
      }
    }
  }

  // ---- processes ----

  /**
   * Starts {@code cmd} through {@code setsid}, which (the JVM's children are not process group
   * leaders) calls setsid() and execs the command in place: the PID we get is the command's, and
   * it leads a new session and process group. Output goes straight to the unit's log file.
   */
  private Child launch(ExecCommand cmd) {
    Map<String, String> e = new HashMap<>(env);
    if (main != null && mainExit == null) {
      e.put("MAINPID", Long.toString(main.pid()));
    }
    List<String> argv = cmd.argv(e);
    if (argv.isEmpty()) {
      throw new IllegalArgumentException(cmd.describe() + ": the command is empty once variables are expanded");
    }
    Path exe;
    try {
      exe = ExecCommand.resolve(argv.get(0), e.get("PATH"));
    } catch (IllegalArgumentException x) {
      throw new IllegalArgumentException(cmd.describe() + ": " + x.getMessage());
    }
    List<String> command = new ArrayList<>(argv.size() + 2);
    command.add(ctx.setsid());
    command.add(exe.toString());
    command.addAll(argv.subList(1, argv.size()));
    ProcessBuilder pb = new ProcessBuilder(command)
        .directory(workingDirectory(spec))
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .redirectErrorStream(true);
    pb.environment().clear();
    pb.environment().putAll(e);
    Process p;
    try {
      p = pb.start();
    } catch (IOException x) {
      throw new IllegalArgumentException(cmd.describe() + ": " + x.getMessage());
    }
    procs.addSession(p.pid());
    LOG.debug("{}: {} runs as PID {}", name, cmd.describe(), p.pid());
    return new Child(p.toHandle(), p, cmd);
  }

  private void watch(Child c, Consumer<ExitStatus> onExit) {
    c.process().onExit().thenAcceptAsync(p -> guarded(() -> onExit.accept(ExitStatus.fromExitValue(p.exitValue()))).run(),
        ctx.executor());
  }

  private static Map<String, String> baseEnvironment(ServiceSpec s) {
    Map<String, String> e = new LinkedHashMap<>();
    for (String key : INHERITED) {
      String v = System.getenv(key);
      if (v != null) {
        e.put(key, v);
      }
    }
    e.putIfAbsent("PATH", ExecCommand.DEFAULT_PATH);
    if (s != null) {
      e.putAll(s.environment());
    }
    return e;
  }

  /** The service's environment: a few of the agent's variables, Environment=, then EnvironmentFile= (which win). */
  private Map<String, String> environment(ServiceSpec s) {
    Map<String, String> e = baseEnvironment(s);
    for (ServiceSpec.EnvironmentFile f : s.environmentFiles()) {
      try {
        ServiceSpec.readEnvironmentFile(f, e);
      } catch (IOException x) {
        throw new IllegalArgumentException("EnvironmentFile=" + f.path() + ": "
            + (x instanceof java.nio.file.NoSuchFileException ? "No such file or directory" : x.getMessage())
            + " (prefix the path with '-' if the file is optional)");
      }
    }
    return e;
  }

  /** Fails now, rather than half-way through a start, on what can be checked without running anything. */
  private static void checkStart(ServiceSpec s, Map<String, String> env) {
    s.workingDirectory().ifPresent(w -> {
      if (!w.optional() && !Files.isDirectory(w.path())) {
        throw new IllegalArgumentException("WorkingDirectory=" + w.path() + ": No such file or directory");
      }
    });
    for (ExecCommand cmd : s.startCommands()) {
      if (cmd.ignoreFailure()) {
        continue;
      }
      List<String> argv = cmd.argv(env);
      if (argv.isEmpty()) {
        throw new IllegalArgumentException(cmd.describe() + ": the command is empty once variables are expanded");
      }
      try {
        ExecCommand.resolve(argv.get(0), env.get("PATH"));
      } catch (IllegalArgumentException x) {
        throw new IllegalArgumentException(cmd.describe() + ": " + x.getMessage());
      }
    }
  }

  private static File workingDirectory(ServiceSpec s) {
    return s.workingDirectory().filter(w -> Files.isDirectory(w.path())).map(w -> w.path().toFile())
        .orElse(new File("/"));
  }

  private boolean startLimitAllows(ServiceSpec s) {
    if (s.startLimitInterval().isZero() || s.startLimitBurst() <= 0) {
      return true;
    }
    long now = System.nanoTime();
    long window = s.startLimitInterval().equals(TimeSpans.INFINITY) ? Long.MAX_VALUE : s.startLimitInterval().toNanos();
    while (!startTimes.isEmpty() && now - startTimes.peekFirst() >= window) {
      startTimes.pollFirst();
    }
    if (startTimes.size() >= s.startLimitBurst()) {
      return false;
    }
    startTimes.addLast(now);
    return true;
  }

  // ---- state ----

  private void moveTo(Phase next) {
    phase.checkMove(next, name);
    if (!phase.activeState().equals(next.activeState())) {
      since = ctx.clock().instant();
    }
    LOG.debug("{}: {} -> {}", name, phase, next);
    phase = next;
    publish();
    if (next.isIdle()) {
      idleWaiters.forEach(f -> f.complete(null));
      idleWaiters.clear();
    }
  }

  private void publish() {
    long mainPid = main != null && mainExit == null ? main.pid()
        : phase == Phase.START && control != null ? control.pid() : 0; // a oneshot's command is its main process
    String load = removed ? "not-found" : definition.loadState();
    UnitStatus before = view == null ? null : view.status();
    view = new View(new UnitStatus(load, phase.activeState(), phase.subState(), mainPid), since, result.word(), failure,
        control != null ? control.pid() : 0, definition, restarts);
    if (!view.status().equals(before)) {
      ctx.changed().accept(name);
    }
  }

  private void forgetIfRemoved() {
    if (removed) {
      ctx.forget().accept(this);
    }
  }

  private void cancelTimer() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  /** A line in the unit's log (its journal) and in the agent's. */
  private void note(String message) {
    String line = name + ": " + message;
    LOG.info("{}", line);
    UnitLog.append(log, LOG_TIME.format(ctx.clock().instant()) + " fleetd: " + line);
  }

  private void writeRecord(String kind, RunRecord record) {
    try {
      record.write(ctx.runDir().resolve(name + "." + kind));
    } catch (IOException e) {
      LOG.warn("{}: cannot record {} process {} in {}: {}; a restarted agent will not find it", name, kind,
          record.pid(), ctx.runDir(), e.toString());
    }
  }

  private void deleteRecord(String kind) {
    try {
      Files.deleteIfExists(ctx.runDir().resolve(name + "." + kind));
    } catch (IOException e) {
      LOG.warn("{}: cannot remove {}: {}", name, ctx.runDir().resolve(name + "." + kind), e.toString());
    }
  }

  /** Scheduled tasks and future callbacks swallow exceptions: log them instead. */
  private Runnable guarded(Runnable r) {
    return () -> {
      try {
        r.run();
      } catch (RuntimeException | Error e) {
        LOG.error("{}: supervisor step failed in phase {}", name, phase, e);
      }
    };
  }
}
