package dev.flotilla.agent.runtime.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flotilla.agent.runtime.RuntimeFailure;
import dev.flotilla.agent.runtime.StateChanges;
import dev.flotilla.agent.runtime.UnitStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ProcessRuntime with real processes (sh, sleep) on a temporary state directory. */
class ProcessRuntimeTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir
  Path dir;

  private ProcessRuntime rt;
  /** Sessions of every main process seen, killed in teardown whatever the test did. */
  private final Set<Long> sessions = new HashSet<>();

  @BeforeEach
  void open() {
    rt = new ProcessRuntime(dir.resolve("state"));
  }

  @AfterEach
  void cleanUp() {
    try {
      rt.close();
    } finally {
      Procs.killSessions(sessions);
    }
  }

  @Test
  void startRunsTheMainProcessAsItsOwnGroupLeaderAndStopKillsIt() {
    load("web.service", "ExecStart=/bin/sleep 1000");
    assertThat(state("web.service")).isEqualTo(new UnitStatus("loaded", "inactive", "dead", 0));

    rt.start(List.of("web.service"));
    long pid = awaitState("web.service", "active", "running").mainPid();

    assertThat(Procs.alive(pid)).isTrue();
    // setsid exec'd the command in place: the PID we report is sleep's, and it leads its group and session
    Procs.await("sleep to replace setsid in PID " + pid, WAIT, () -> Procs.cmdline(pid).startsWith("/bin/sleep 1000"));
    assertThat(Procs.stat(pid).pgrp()).isEqualTo(pid);
    assertThat(Procs.stat(pid).session()).isEqualTo(pid);

    rt.stop(List.of("web.service"));
    assertThat(awaitState("web.service", "inactive", "dead").mainPid()).isZero();
    assertThat(Procs.alive(pid)).isFalse();
  }

  @Test
  void stopAndCloseLeaveNoProcessOfTheUnitBehind() {
    // two grandchildren in the group, and one that left it for a session of its own
    load("tree.service", "ExecStart=/bin/sh -c 'sleep 1000 & setsid sleep 1001 & sleep 1002'");

    List<Long> first = startTree();
    rt.stop(List.of("tree.service"));
    awaitState("tree.service", "inactive", "dead");
    assertThat(Procs.alive(first)).isEmpty();

    List<Long> second = startTree();
    rt.close(); // returns once the processes are gone
    assertThat(Procs.alive(second)).isEmpty();
  }

  private List<Long> startTree() {
    rt.start(List.of("tree.service"));
    long pid = awaitState("tree.service", "active", "running").mainPid();
    List<Long> tree = Procs.await("sh and its three sleeps", WAIT, () -> Procs.tree(pid),
        t -> t.stream().filter(p -> Procs.cmdline(p).startsWith("sleep 100")).count() == 3, () -> "");
    assertThat(tree.stream().filter(p -> Procs.stat(p).session() != pid)).hasSize(1); // the setsid one
    return tree;
  }

  @Test
  void restartOnFailureRestartsUntilTheCommandKeepsRunning() throws IOException {
    Path count = dir.resolve("count");
    load("flaky.service",
        "ExecStart=/bin/sh -c 'echo run >> " + count + "; [ $(wc -l < " + count + ") -ge 3 ] && exec sleep 1000; exit 3'",
        "Restart=on-failure",
        "RestartSec=50ms");

    rt.start(List.of("flaky.service"));

    // each run is active/running until it exits: wait for the third, which execs sleep
    Procs.await("the third run to exec sleep", WAIT, () -> state("flaky.service"),
        s -> s.subState().equals("running") && Procs.cmdline(s.mainPid()).equals("sleep 1000"),
        () -> rt.status("flaky.service"));
    sessions.add(state("flaky.service").mainPid());
    assertThat(Files.readAllLines(count)).hasSize(3);
    assertThat(rt.status("flaky.service")).contains("Restarts: 2");
  }

  @Test
  void restartsStopAtTheStartLimitAndTheUnitFails() throws IOException {
    Path count = dir.resolve("count");
    rt.load(Map.of("crash.service", "[Unit]\nStartLimitBurst=4\n[Service]\n"
        + "ExecStart=/bin/sh -c 'echo run >> " + count + "; exit 3'\nRestart=always\nRestartSec=20ms\n"));

    rt.start(List.of("crash.service"));

    awaitState("crash.service", "failed", "failed");
    assertThat(Files.readAllLines(count)).hasSize(4);
    assertThat(rt.status("crash.service")).contains("(Result: start-limit-hit)");
    assertThatThrownBy(() -> rt.start(List.of("crash.service")))
        .isInstanceOf(RuntimeFailure.class)
        .hasMessageStartingWith("crash.service: start request repeated too quickly");
  }

  @Test
  void restartNoLeavesAFailedUnitAfterOneRun() throws IOException {
    Path count = dir.resolve("count");
    load("once.service", "ExecStart=/bin/sh -c 'echo run >> " + count + "; exit 3'");

    rt.start(List.of("once.service"));

    assertThat(awaitState("once.service", "failed", "failed").mainPid()).isZero();
    assertThat(Files.readAllLines(count)).hasSize(1);
    assertThat(String.join("\n", rt.journal("once.service", 20).lines()))
        .contains("exited, code=exited, status=3/NOTIMPLEMENTED")
        .contains("Failed with result 'exit-code'");
  }

  @Test
  void aFailingExecStartPreFailsTheUnitUnlessPrefixedWithDash() throws IOException {
    Path mark = dir.resolve("mark");
    Path order = dir.resolve("order");
    load("strict.service", "ExecStartPre=/bin/false", "ExecStart=/bin/sh -c 'touch " + mark + "; exec sleep 1000'");
    load("lenient.service",
        "ExecStartPre=-/bin/false",
        "ExecStartPre=/bin/sh -c 'echo pre >> " + order + "'",
        "ExecStart=/bin/sh -c 'echo main >> " + order + "; exec sleep 1000'");

    rt.start(List.of("strict.service", "lenient.service"));

    awaitState("strict.service", "failed", "failed");
    assertThat(mark).doesNotExist();
    awaitState("lenient.service", "active", "running");
    Procs.await("main's line", WAIT, () -> lines(order).size() == 2);
    assertThat(lines(order)).containsExactly("pre", "main");
  }

  @Test
  void execStartPreShowsAsActivatingAndAStopEndsIt() throws IOException {
    Path pidFile = dir.resolve("pre.pid");
    load("slow.service",
        "ExecStartPre=/bin/sh -c 'echo $$$$ > " + pidFile + "; exec sleep 1000'",
        "ExecStart=/bin/sleep 1000");

    rt.start(List.of("slow.service"));

    assertThat(awaitState("slow.service", "activating", "start-pre").mainPid()).isZero();
    Procs.await("the ExecStartPre to write its PID", WAIT, () -> lines(pidFile).size() == 1);
    long pre = Long.parseLong(lines(pidFile).get(0));
    sessions.add(pre);
    assertThat(Procs.alive(pre)).isTrue();

    rt.stop(List.of("slow.service"));
    awaitState("slow.service", "inactive", "dead");
    assertThat(Procs.alive(pre)).isFalse();
  }

  @Test
  void execStopRunsWithTheMainPidBeforeTheSignalThenExecStopPost() throws IOException {
    Path out = dir.resolve("stop.txt");
    load("web.service",
        "ExecStart=/bin/sleep 1000",
        "ExecStop=/bin/sh -c 'echo stop $MAINPID >> " + out + "'",
        "ExecStopPost=/bin/sh -c 'echo post >> " + out + "'");
    rt.start(List.of("web.service"));
    long pid = awaitState("web.service", "active", "running").mainPid();

    rt.stop(List.of("web.service"));

    awaitState("web.service", "inactive", "dead");
    assertThat(lines(out)).containsExactly("stop " + pid, "post");
    assertThat(Procs.alive(pid)).isFalse();
  }

  @Test
  void aProcessIgnoringSigtermIsKilledAfterTimeoutStopSec() {
    load("stubborn.service", "ExecStart=/bin/sh -c \"trap '' TERM; sleep 1000\"", "TimeoutStopSec=300ms");
    rt.start(List.of("stubborn.service"));
    long pid = awaitState("stubborn.service", "active", "running").mainPid();
    List<Long> tree = Procs.await("sh's sleep", WAIT, () -> Procs.tree(pid), t -> t.size() == 2, () -> "");

    rt.stop(List.of("stubborn.service"));

    awaitState("stubborn.service", "deactivating", "stop-sigterm");
    assertThat(Procs.alive(tree)).hasSize(2); // SIGTERM was ignored
    awaitState("stubborn.service", "failed", "failed");
    assertThat(Procs.alive(tree)).isEmpty();
    assertThat(rt.status("stubborn.service")).contains("(Result: timeout)");
  }

  @Test
  void oneshotWithRemainAfterExitStaysActiveExited() throws IOException {
    Path out = dir.resolve("done");
    load("setup.service", "Type=oneshot", "RemainAfterExit=yes", "ExecStart=/bin/sh -c 'echo done >> " + out + "'");
    load("task.service", "Type=oneshot", "ExecStart=/bin/sh -c 'echo task >> " + out + "'");

    rt.start(List.of("setup.service", "task.service"));

    awaitState("setup.service", "active", "exited");
    awaitState("task.service", "inactive", "dead");
    assertThat(lines(out)).containsExactlyInAnyOrder("done", "task");
    rt.stop(List.of("setup.service"));
    awaitState("setup.service", "inactive", "dead");
    assertThat(lines(out)).hasSize(2); // stopping did not run it again
  }

  @Test
  void aNewRuntimeOnTheSameStateRemembersAOneshotThatRemains() {
    load("setup.service", "Type=oneshot", "RemainAfterExit=yes", "ExecStart=/bin/true");
    load("web.service", "ExecStart=/bin/true");
    rt.start(List.of("setup.service"));
    awaitState("setup.service", "active", "exited");

    ProcessRuntime next = new ProcessRuntime(dir.resolve("state")); // rt abandoned, as by kill -9
    try {
      assertThat(next.states(List.of("setup.service", "web.service"))).containsExactly(
          Map.entry("setup.service", new UnitStatus("loaded", "active", "exited", 0)),
          Map.entry("web.service", new UnitStatus("loaded", "inactive", "dead", 0)));
    } finally {
      next.close();
    }
  }

  @Test
  void environmentSettingsReachTheCommandAndItsArguments() throws IOException {
    Path envFile = dir.resolve("env");
    Files.writeString(envFile, "# a comment\nFROMFILE=\"from file\"\nPLAIN=overridden by the file\n");
    load("env.service",
        "Type=oneshot",
        "Environment=\"GREETING=hello world\" PLAIN=x",
        "Environment=OTHER=y",
        "EnvironmentFile=-/nonexistent/env",
        "EnvironmentFile=" + envFile,
        // $$ is a literal $: sh reads the variables from its environment
        "ExecStart=/bin/sh -c 'echo \"env:$${GREETING}|$${PLAIN}|$${OTHER}|$${FROMFILE}\"'",
        // expanded by the runtime: ${X} inside a word, $X alone splits into words
        "ExecStart=/bin/echo argv:${GREETING} $GREETING");

    rt.start(List.of("env.service"));

    awaitState("env.service", "inactive", "dead");
    assertThat(rt.journal("env.service", 50).lines())
        .contains("env:hello world|overridden by the file|y|from file")
        .contains("argv:hello world hello world");
  }

  @Test
  void journalHasTheUnitsStdoutAndStderrInOrder() {
    load("talk.service", "Type=oneshot", "ExecStart=/bin/sh -c 'echo out1; echo err1 >&2; echo out2'");
    rt.start(List.of("talk.service"));
    awaitState("talk.service", "inactive", "dead");

    List<String> all = rt.journal("talk.service", 100).lines();
    assertThat(all).containsSubsequence("out1", "err1", "out2");
    assertThat(rt.journal("talk.service", 2).lines()).containsExactlyElementsOf(all.subList(all.size() - 2, all.size()));
    assertThat(rt.journal("quiet.service", 5).lines()).isEmpty();
  }

  @Test
  void failuresAreOneLineMessagesNamingUnitAndCause() {
    load("missing.service", "ExecStart=/nope/x");
    load("fork.service", "Type=forking", "ExecStart=/bin/true");
    load("priv.service", "ExecStart=+/bin/sleep 1000");
    load("fine.service", "ExecStart=/bin/sleep 1000");
    rt.load(Map.of("web.socket", "[Socket]\nListenStream=8080\n"));

    assertThatThrownBy(() -> rt.start(List.of("missing.service")))
        .isInstanceOf(RuntimeFailure.class)
        .hasMessage("missing.service: ExecStart=/nope/x: No such file or directory");
    assertThat(state("missing.service")).isEqualTo(new UnitStatus("loaded", "failed", "failed", 0));

    assertThat(state("fork.service").loadState()).isEqualTo("error");
    assertThatThrownBy(() -> rt.start(List.of("fork.service")))
        .hasMessageStartingWith("fork.service: cannot start, the unit file is invalid: Type=forking is not supported");

    assertThat(state("web.socket")).isEqualTo(new UnitStatus("loaded", "inactive", "dead", 0));
    assertThatThrownBy(() -> rt.start(List.of("web.socket")))
        .hasMessageStartingWith("web.socket: the process runtime only runs services");

    // one bad unit does not stop the batch; the failure names each bad unit
    assertThatThrownBy(() -> rt.start(List.of("priv.service", "fine.service", "nope.service")))
        .isInstanceOf(RuntimeFailure.class)
        .hasMessageContaining("priv.service: cannot start, the unit file is invalid: ExecStart=+/bin/sleep 1000: "
            + "the '+' prefix is not supported")
        .hasMessageContaining("nope.service: not loaded")
        .hasMessageNotContaining("fine.service")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    awaitState("fine.service", "active", "running");
  }

  @Test
  void unloadStopsTheUnitAndForgetsIt() {
    load("web.service", "ExecStart=/bin/sleep 1000");
    rt.start(List.of("web.service"));
    long pid = awaitState("web.service", "active", "running").mainPid();
    assertThat(rt.installed()).containsExactly("web.service");

    rt.unload(List.of("web.service", "unknown.service"));

    assertThat(rt.installed()).isEmpty();
    awaitState("web.service", "inactive", "dead");
    assertThat(state("web.service")).isEqualTo(UnitStatus.NOT_FOUND);
    assertThat(Procs.alive(pid)).isFalse();
  }

  @Test
  void statusReadsLikeSystemctlStatus() {
    load("web.service", "ExecStart=/bin/sh -c 'echo hello from web; exec sleep 1000'");
    rt.start(List.of("web.service"));
    long pid = awaitState("web.service", "active", "running").mainPid();
    Procs.await("the greeting in the log", WAIT, () -> rt.journal("web.service", 10).lines().contains("hello from web"));
    Procs.await("sh to exec sleep", WAIT, () -> Procs.cmdline(pid).startsWith("sleep"));

    String status = rt.status("web.service");

    assertThat(status).startsWith("● web.service\n")
        .contains("Loaded: loaded (" + dir.resolve("state/units/web.service") + ")")
        .contains("Active: active (running) since ")
        .contains("Main PID: " + pid + " (sleep)")
        .contains("hello from web");
    assertThat(rt.status("other.service")).contains("Loaded: not-found");
  }

  @Test
  void changesNameAUnitWhoseMainProcessIsKilledBehindItsBack() {
    java.util.concurrent.atomic.AtomicInteger signals = new java.util.concurrent.atomic.AtomicInteger();
    rt.signalChangesTo(signals::incrementAndGet); // the agent's wake-up
    load("watched.service", "ExecStart=/bin/sleep 1000");
    rt.start(List.of("watched.service"));
    long pid = awaitState("watched.service", "active", "running").mainPid();
    Procs.await("the start to be named", WAIT, () -> rt.changes().units().contains("watched.service"));
    assertThat(rt.changes()).isEqualTo(StateChanges.NONE);
    assertThat(signals.get()).as("the start was signalled as well as queued").isPositive();

    long t0 = System.nanoTime();
    ProcessHandle.of(pid).orElseThrow().destroyForcibly(); // SIGKILL, not through the runtime
    Set<String> seen = new HashSet<>();
    Procs.await("a change of watched.service", WAIT, () -> seen.addAll(rt.changes().units())
        && seen.contains("watched.service"));
    long tookMs = (System.nanoTime() - t0) / 1_000_000;
    System.out.println("process runtime: kill -9 of a main process named by changes() after " + tookMs + " ms");
    assertThat(tookMs).isLessThan(2_000);
    // it passes through deactivating (the rest of its session is swept) to failed: a reader that
    // reads the state only when changes() names the unit ends up at failed all the same
    UnitStatus failed = new UnitStatus("loaded", "failed", "failed", 0);
    UnitStatus[] lastRead = {state("watched.service")};
    Procs.await("reads on named changes only to arrive at failed", WAIT, () -> {
      if (rt.changes().units().contains("watched.service")) {
        lastRead[0] = state("watched.service");
      }
      return lastRead[0].equals(failed);
    });
  }

  // ---- helpers ----

  private void load(String unit, String... serviceLines) {
    rt.load(Map.of(unit, "[Service]\n" + String.join("\n", serviceLines) + "\n"));
  }

  private UnitStatus state(String unit) {
    return rt.states(List.of(unit)).get(unit);
  }

  private UnitStatus awaitState(String unit, String active, String sub) {
    UnitStatus s = Procs.await(unit + " to be " + active + "/" + sub, WAIT, () -> state(unit),
        st -> st.activeState().equals(active) && st.subState().equals(sub),
        () -> "status:\n" + rt.status(unit));
    if (s.mainPid() != 0) {
      sessions.add(s.mainPid());
    }
    return s;
  }

  private static List<String> lines(Path file) {
    try {
      return Files.exists(file) ? Files.readAllLines(file) : List.of();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
