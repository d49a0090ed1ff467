package dev.flotilla.agent.runtime.systemd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flotilla.agent.runtime.RuntimeFailure;
import dev.flotilla.agent.runtime.StateChanges;
import dev.flotilla.agent.runtime.UnitStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SystemdRuntime} against a real systemd (one {@link SystemdHost} for the class; each test
 * uses its own unit names and unloads what it installed).
 */
class SystemdRuntimeTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static SystemdHost host;

  private SystemdRuntime runtime;

  @BeforeAll
  static void boot() {
    host = SystemdHost.start("flotilla-runtime-test");
  }

  @AfterAll
  static void shutDown() {
    if (host != null) {
      host.close();
    }
  }

  @BeforeEach
  void newRuntime() {
    runtime = new SystemdRuntime(host.runtimeOptions());
  }

  @AfterEach
  void unloadEverything() {
    this.runtime.close();
    var runtime = new SystemdRuntime(host.runtimeOptions());
    runtime.unload(runtime.installed());
    assertThat(runtime.installed()).isEmpty();
  }

  private static String sleeper(String description) {
    return "[Unit]\nDescription=" + description + "\n\n[Service]\nExecStart=/bin/sleep 1000\n";
  }

  private UnitStatus awaitState(SystemdRuntime rt, String unit, String active, String sub) {
    return Await.until(WAIT, unit + " " + active + "/" + sub, () -> rt.states(List.of(unit)).get(unit),
        s -> s.activeState().equals(active) && s.subState().equals(sub));
  }

  private static String showInside(String unit, String property) {
    var r = host.exec("systemctl", "show", "-p", property, "--value", unit);
    assertThat(r.exitCode()).as("systemctl show in the host: %s", r.stderr()).isZero();
    return r.output();
  }

  @Test
  void startedServiceRunsWithTheMainPidSystemdReports() {
    runtime.load(Map.of("run-sleep.service", sleeper("sleeps")));
    runtime.start(List.of("run-sleep.service"));

    var status = awaitState(runtime, "run-sleep.service", "active", "running");

    assertThat(status.loadState()).isEqualTo("loaded");
    assertThat(status.mainPid()).isPositive();
    assertThat(showInside("run-sleep.service", "MainPID")).isEqualTo(Long.toString(status.mainPid()));
    // systemd says running once it forked; the child is "(sleep)" until its exec, a moment later
    String comm = "/proc/" + status.mainPid() + "/comm";
    Await.until(WAIT, comm + " to say sleep", () -> host.exec("cat", comm).output(), "sleep"::equals);
    assertThat(Files.exists(host.unitDir().resolve("run-sleep.service"))).isTrue();
    assertThat(runtime.status("run-sleep.service")).contains("run-sleep.service", "active (running)");
  }

  @Test
  void stoppedServiceIsInactiveAndDead() {
    runtime.load(Map.of("stop-sleep.service", sleeper("sleeps")));
    runtime.start(List.of("stop-sleep.service"));
    awaitState(runtime, "stop-sleep.service", "active", "running");

    runtime.stop(List.of("stop-sleep.service", "stop-never-loaded.service"));

    var status = awaitState(runtime, "stop-sleep.service", "inactive", "dead");
    assertThat(status).isEqualTo(new UnitStatus("loaded", "inactive", "dead", 0));
    assertThat(showInside("stop-sleep.service", "ActiveState")).isEqualTo("inactive");
    // systemctl status exits 3 for an inactive unit: an answer, not a failure
    assertThat(runtime.status("stop-sleep.service")).contains("inactive (dead)");
  }

  @Test
  void changedFileIsPickedUpByOneReloadAndAnUnchangedOneCostsNothing() {
    runtime.load(Map.of("reload-sleep.service", sleeper("first")));
    runtime.start(List.of("reload-sleep.service"));
    long pid = awaitState(runtime, "reload-sleep.service", "active", "running").mainPid();
    assertThat(showInside("reload-sleep.service", "Description")).isEqualTo("first");

    long before = runtime.commandsRun();
    runtime.load(Map.of("reload-sleep.service", sleeper("first")));
    assertThat(runtime.commandsRun()).as("no daemon-reload for an unchanged file").isEqualTo(before);

    runtime.load(Map.of("reload-sleep.service", sleeper("second")));
    assertThat(runtime.commandsRun()).as("one daemon-reload").isEqualTo(before + 1);
    assertThat(showInside("reload-sleep.service", "Description")).isEqualTo("second");
    assertThat(showInside("reload-sleep.service", "NeedDaemonReload")).isEqualTo("no");
    // loading a unit that runs does not restart it
    assertThat(runtime.states(List.of("reload-sleep.service")).get("reload-sleep.service").mainPid()).isEqualTo(pid);
  }

  @Test
  void unloadStopsTheUnitAndRemovesItsFileButLeavesOthersFilesAlone() {
    runtime.load(Map.of("gone-sleep.service", sleeper("sleeps")));
    runtime.start(List.of("gone-sleep.service"));
    awaitState(runtime, "gone-sleep.service", "active", "running");

    runtime.unload(List.of("gone-sleep.service", "never-there.service", SystemdHost.BOOT_TARGET));

    assertThat(runtime.states(List.of("gone-sleep.service")).get("gone-sleep.service")).isEqualTo(UnitStatus.NOT_FOUND);
    assertThat(Files.exists(host.unitDir().resolve("gone-sleep.service"))).isFalse();
    assertThat(runtime.installed()).doesNotContain("gone-sleep.service");
    assertThat(showInside("gone-sleep.service", "LoadState")).isEqualTo("not-found");
    // the host's boot target sits in the same directory without our marker: not ours to remove
    assertThat(Files.exists(host.unitDir().resolve(SystemdHost.BOOT_TARGET))).isTrue();
    assertThat(runtime.states(List.of(SystemdHost.BOOT_TARGET)).get(SystemdHost.BOOT_TARGET).activeState())
        .isEqualTo("active");
  }

  @Test
  void hundredUnitsCostOneSystemctlPerChunkForEachAction() {
    var files = new LinkedHashMap<String, String>();
    IntStream.range(0, 100).forEach(i -> files.put("bulk-" + i + ".service", sleeper("bulk " + i)));
    var units = new ArrayList<>(files.keySet());

    long c0 = runtime.commandsRun();
    runtime.load(files);
    assertThat(runtime.commandsRun() - c0).as("load: one daemon-reload").isEqualTo(1);
    runtime.start(units);
    assertThat(runtime.commandsRun() - c0).as("start: one systemctl start").isEqualTo(2);

    var states = Await.until(WAIT, "100 units running", () -> runtime.states(units),
        m -> m.values().stream().allMatch(s -> s.subState().equals("running")));
    assertThat(states).hasSize(100).containsOnlyKeys(units);
    assertThat(states.values().stream().map(UnitStatus::mainPid).distinct().count()).isEqualTo(100);
    long c1 = runtime.commandsRun();
    runtime.states(units);
    assertThat(runtime.commandsRun() - c1).as("states of 100 units, chunks of 200").isEqualTo(1);

    var chunked = new SystemdRuntime(host.runtimeOptions().withMaxUnitsPerCommand(40));
    var chunkedStates = chunked.states(units);
    assertThat(chunked.commandsRun()).as("states of 100 units, chunks of 40").isEqualTo(3);
    assertThat(chunkedStates).isEqualTo(runtime.states(units));
    var inside = host.exec("systemctl", "list-units", "bulk-*", "--state=running", "--no-legend", "--plain", "--no-pager");
    assertThat(inside.output().lines().count()).isEqualTo(100);

    long c2 = runtime.commandsRun();
    runtime.unload(units);
    assertThat(runtime.commandsRun() - c2).as("unload: stop, daemon-reload, reset-failed").isEqualTo(3);
    assertThat(runtime.states(units).values()).containsOnly(UnitStatus.NOT_FOUND);
  }

  @Test
  void failingServiceIsFailedUntilUnloaded() {
    runtime.load(Map.of("fails.service", "[Service]\nExecStart=/bin/false\n"));
    runtime.start(List.of("fails.service"));

    var status = awaitState(runtime, "fails.service", "failed", "failed");

    assertThat(status.mainPid()).isZero();
    assertThat(runtime.status("fails.service")).contains("failed");
    runtime.unload(List.of("fails.service"));
    assertThat(runtime.states(List.of("fails.service")).get("fails.service"))
        .as("reset-failed lets systemd forget the failed unit").isEqualTo(UnitStatus.NOT_FOUND);
  }

  @Test
  void restartedAgentAdoptsItsRunningUnitsWithoutRestartingThem() throws Exception {
    runtime.load(Map.of("adopt-a.service", sleeper("a"), "adopt-b.service", sleeper("b")));
    runtime.start(List.of("adopt-a.service", "adopt-b.service"));
    long pidA = awaitState(runtime, "adopt-a.service", "active", "running").mainPid();
    long pidB = awaitState(runtime, "adopt-b.service", "active", "running").mainPid();
    runtime.close();

    var restarted = new SystemdRuntime(host.runtimeOptions());

    assertThat(restarted.installed()).containsExactlyInAnyOrder("adopt-a.service", "adopt-b.service");
    var states = restarted.states(restarted.installed());
    assertThat(states.get("adopt-a.service")).isEqualTo(new UnitStatus("loaded", "active", "running", pidA));
    assertThat(states.get("adopt-b.service")).isEqualTo(new UnitStatus("loaded", "active", "running", pidB));
    assertThat(showInside("adopt-a.service", "NRestarts")).isEqualTo("0");
    assertThat(Files.readAllLines(host.unitDir().resolve("adopt-a.service")).get(0)).isEqualTo(SystemdRuntime.MARKER);
  }

  @Test
  void journalShowsTheUnitsOutputOldestFirst() {
    runtime.load(Map.of("talks.service",
        "[Service]\nExecStart=/bin/sh -c 'echo first line; echo second line; exec sleep 1000'\n"));
    runtime.start(List.of("talks.service"));

    var lines = Await.until(WAIT, "talks.service output in the journal",
        () -> runtime.journal("talks.service", 50).lines(), l -> l.stream().anyMatch(s -> s.endsWith("second line")));

    var output = lines.stream().filter(l -> l.endsWith(" line")).collect(Collectors.toList());
    assertThat(output).hasSize(2);
    assertThat(output.get(0)).endsWith("first line").contains(host.hostname());
    assertThat(output.get(1)).endsWith("second line");
    assertThat(lines).noneMatch(l -> l.startsWith("-- cursor"));
    assertThat(runtime.journal("talks.service", 1).lines()).hasSize(1);
    assertThat(runtime.journal("never-ran.service", 10).lines()).isEmpty();
  }

  @Test
  void aJournalCursorHandsOutEachNewLineOnceEvenWhenTheTextRepeats() {
    // a unit that has not written yet: following starts from its first line
    var before = runtime.journal("ticks.service", 5);
    assertThat(before.lines()).isEmpty();
    runtime.load(Map.of("ticks.service",
        "[Service]\nExecStart=/bin/sh -c 'i=0; while [ $i -lt 12 ]; do echo tick; i=$((i+1)); sleep 0.1; done; exec sleep 1000'\n"));
    runtime.start(List.of("ticks.service"));

    List<String> followed = new ArrayList<>();
    String cursor = before.cursor();
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (followed.stream().filter(l -> l.endsWith(" tick")).count() < 12 && System.nanoTime() < deadline) {
      var page = runtime.journalAfter("ticks.service", cursor);
      followed.addAll(page.lines());
      cursor = page.cursor();
      LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
    }
    assertThat(followed.stream().filter(l -> l.endsWith(" tick"))).hasSize(12);
    assertThat(runtime.journalAfter("ticks.service", cursor).lines()).as("nothing new after the last page").isEmpty();
    // --lines 0 gives the end as the cursor: nothing old comes back
    assertThat(runtime.journalAfter("ticks.service", runtime.journal("ticks.service", 0).cursor()).lines()).isEmpty();
    assertThatThrownBy(() -> runtime.journalAfter("ticks.service", "journal:s=1; rm -rf /"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> runtime.journalAfter("ticks.service", "17:42"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void unitFileWithASyntaxProblemSaysSoInItsStateAndFailsToStart() {
    runtime.load(Map.of(
        "no-exec.service", "[Service]\nType=simple\n",
        "broken.service", "[Unit\nDescription=broken\n",
        "fine.service", sleeper("fine")));

    var states = runtime.states(List.of("no-exec.service", "broken.service"));
    assertThat(states.get("no-exec.service").loadState()).isEqualTo("bad-setting");
    assertThat(states.get("broken.service").loadState()).isEqualTo("error");

    assertThatThrownBy(() -> runtime.start(List.of("no-exec.service", "fine.service", "broken.service", "missing.service")))
        .isInstanceOf(RuntimeFailure.class)
        .hasMessageContaining("systemctl start --no-block")
        .hasMessageContaining("for no-exec.service, broken.service, missing.service")
        .hasMessageContaining(": Failed to start ")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n").doesNotContain("for fine.service"));
    // the rest of the batch started all the same
    awaitState(runtime, "fine.service", "active", "running");
  }

  @Test
  void namesThatAreNotUnitNamesAreRefusedAndNothingIsWrittenOutsideTheUnitDirectory() {
    assertThatThrownBy(() -> runtime.load(Map.of("../escape.service", sleeper("x"), "kept.service", sleeper("kept"))))
        .isInstanceOf(RuntimeFailure.class)
        .hasMessageContaining("'../escape.service' is not a unit name");

    assertThat(Files.exists(host.unitDir().resolve("../escape.service"))).isFalse();
    assertThat(runtime.installed()).containsExactly("kept.service");
    assertThat(runtime.states(List.of("../escape.service", "kept.service")))
        .containsEntry("../escape.service", UnitStatus.NOT_FOUND)
        .containsEntry("kept.service", new UnitStatus("loaded", "inactive", "dead", 0));
  }

  @Test
  void templatesLoadAndUnloadAndDoNotSpoilABatchOfStates() {
    runtime.load(Map.of("tpl@.service", "[Service]\nExecStart=/bin/sleep 100%i\n"));
    runtime.start(List.of("tpl@7.service"));
    var running = awaitState(runtime, "tpl@7.service", "active", "running");
    // Type=simple is running from the fork on: the exec of the instance's command line follows
    Await.until(WAIT, "tpl@7's main process running /bin/sleep 1007",
        () -> host.exec("cat", "/proc/" + running.mainPid() + "/cmdline").stdout(), "/bin/sleep\u00001007\u0000"::equals);

    var states = runtime.states(List.of("tpl@.service", "tpl@7.service"));
    assertThat(states.get("tpl@.service")).isEqualTo(UnitStatus.NOT_FOUND);
    assertThat(states.get("tpl@7.service").subState()).isEqualTo("running");

    runtime.stop(List.of("tpl@.service", "tpl@7.service"));
    awaitState(runtime, "tpl@7.service", "inactive", "dead");
    runtime.unload(List.of("tpl@.service"));
    assertThat(runtime.installed()).doesNotContain("tpl@.service");
    assertThat(runtime.states(List.of("tpl@7.service")).get("tpl@7.service")).isEqualTo(UnitStatus.NOT_FOUND);
  }

  /** daemon-reloads PID 1 has logged so far (each logs one "Reloading." line). */
  private long reloadsLogged() {
    return host.exec("journalctl", "_PID=1", "--no-pager", "-o", "cat").stdout().lines()
        .filter("Reloading."::equals).count();
  }

  @Test
  void newUnitFilesAreTakenUpWithoutADaemonReloadAndAChangedOneWithOne() {
    long before = reloadsLogged();
    // asked about first (not-found), then written: systemd loads it from our file when asked again
    assertThat(runtime.states(List.of("fresh.service")).get("fresh.service")).isEqualTo(UnitStatus.NOT_FOUND);
    runtime.load(Map.of("fresh.service", sleeper("fresh"), "fresh2.service", sleeper("fresh2")));
    runtime.start(List.of("fresh.service", "fresh2.service"));
    awaitState(runtime, "fresh.service", "active", "running");
    awaitState(runtime, "fresh2.service", "active", "running");
    assertThat(showInside("fresh.service", "Description")).isEqualTo("fresh");
    assertThat(showInside("fresh.service", "NeedDaemonReload")).isEqualTo("no");

    // a file that changes under a loaded unit still needs the reload, and gets it
    runtime.load(Map.of("fresh.service", sleeper("changed")));
    assertThat(showInside("fresh.service", "Description")).isEqualTo("changed");
    Await.until(WAIT, "PID 1's reload line in the journal", this::reloadsLogged, n -> n >= before + 1);
    assertThat(reloadsLogged()).as("one reload, for the changed file; none for the two new ones").isEqualTo(before + 1);
  }

  /** Anchor targets systemd holds in memory (active or not) or whose files are in the unit directory. */
  private static List<String> anchorsLeft() {
    var held = host.exec("systemctl", "list-units", "--all", "--plain", "--no-legend", "--no-pager", "flotilla-start-*")
        .stdout().lines().map(String::strip).filter(l -> !l.isEmpty());
    var files = host.exec("ls", "/run/systemd/system").stdout().lines().filter(f -> f.startsWith("flotilla-start-"));
    return java.util.stream.Stream.concat(held, files).collect(Collectors.toList());
  }

  @Test
  void newUnitsToStartAreStartedByOneSystemctlWithoutAShowOrAReload() {
    long reloads = reloadsLogged();
    // one of them asked about first: systemd holds it as not-found until the start asks again
    assertThat(runtime.states(List.of("burst-0.service")).get("burst-0.service")).isEqualTo(UnitStatus.NOT_FOUND);
    var files = new LinkedHashMap<String, String>();
    IntStream.range(0, 50).forEach(i -> files.put("burst-" + i + ".service", sleeper("burst " + i)));
    var units = new ArrayList<>(files.keySet());

    long c0 = runtime.commandsRun();
    runtime.loadAndStart(files, units);
    assertThat(runtime.commandsRun() - c0)
        .as("list-units, one systemctl start (of the anchor target), list-units; no show, no daemon-reload").isEqualTo(3);
    var states = Await.until(WAIT, "50 units running", () -> runtime.states(units),
        m -> m.values().stream().allMatch(st -> st.subState().equals("running")));
    assertThat(states).hasSize(50);
    Await.until(WAIT, "the anchor target stopped and let go of, its file gone", SystemdRuntimeTest::anchorsLeft,
        List::isEmpty);
    assertThat(showInside("burst-0.service", "Description")).isEqualTo("burst 0");
    assertThat(showInside("burst-49.service", "NeedDaemonReload")).isEqualTo("no");
    assertThat(reloadsLogged()).as("no daemon-reload").isEqualTo(reloads);

    // started again with the same files: nothing written, the start does nothing to running units
    long pid = states.get("burst-7.service").mainPid();
    runtime.loadAndStart(files, units);
    assertThat(runtime.states(List.of("burst-7.service")).get("burst-7.service").mainPid()).isEqualTo(pid);
  }

  /**
   * Loads and starts {@code unit} from a file "old" (description), waits until it runs, then
   * deletes its file behind the runtime's back, without a reload: systemd still holds the unit.
   * Returns its main PID.
   */
  private long runningFromAFileGoneBehindOurBack(String unit) {
    runtime.load(Map.of(unit, sleeper("old")));
    runtime.start(List.of(unit));
    long pid = awaitState(runtime, unit, "active", "running").mainPid();
    host.exec("rm", "-f", "/run/systemd/system/" + unit);
    return pid;
  }

  @Test
  void aNewFileOfAUnitSystemdStillHoldsFromAnEarlierOneIsTakenUpByAReloadAndASecondStart() {
    // held.service runs from our file; the file went behind our back (no reload): a new file where
    // none was, for a unit systemd still holds (an inactive one it would have let go of), so the
    // start alone would leave systemd with the old definition
    long pid = runningFromAFileGoneBehindOurBack("held.service");
    long reloads = reloadsLogged();

    long c0 = runtime.commandsRun();
    runtime.loadAndStart(Map.of("held.service", sleeper("new"), "plain.service", sleeper("plain")),
        List.of("held.service", "plain.service"));
    assertThat(runtime.commandsRun() - c0).as("start, daemon-reload, start of held.service again").isEqualTo(3);
    Await.until(WAIT, "PID 1's reload line in the journal", this::reloadsLogged, n -> n >= reloads + 1);
    assertThat(showInside("held.service", "Description")).isEqualTo("new");
    assertThat(showInside("held.service", "NeedDaemonReload")).isEqualTo("no");
    assertThat(awaitState(runtime, "held.service", "active", "running").mainPid()).as("not restarted").isEqualTo(pid);
    awaitState(runtime, "plain.service", "active", "running");
  }

  @Test
  void anAnchoredStartLeavesToSystemctlStartTheUnitsThatNeedItsOwnJobAndReportsTheirFailuresAsBefore() {
    // anchored-held.service runs from a file that went behind our back (see the test above)
    long heldPid = runningFromAFileGoneBehindOurBack("anchored-held.service");

    var files = new LinkedHashMap<String, String>();
    IntStream.range(0, 20).forEach(i -> files.put("anchored-" + i + ".service", sleeper("anchored " + i)));
    files.put("anchored-held.service", sleeper("new"));
    files.put("anchored-bad.service", "[Service]\nType=simple\n"); // bad-setting: no job through the anchor
    files.put("anchored-needs.service", "[Unit]\nRequires=anchored-nowhere.service\n\n[Service]\nExecStart=/bin/sleep 1000\n");
    files.put("anchored-refuses.service", "[Unit]\nRefuseManualStart=yes\n\n[Service]\nExecStart=/bin/sleep 1000\n");
    var units = new ArrayList<>(files.keySet());

    long c0 = runtime.commandsRun();
    assertThatThrownBy(() -> runtime.loadAndStart(files, units))
        .isInstanceOf(RuntimeFailure.class)
        .hasMessageContaining("anchored-bad.service")
        .hasMessageContaining("anchored-needs.service")
        .hasMessageContaining("anchored-refuses.service")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("anchored-1.service"));
    // list-units, the anchor's start, list-units; then one start of held, bad, needs and refuses;
    // held's "changed on disk" brings a daemon-reload and its second start
    assertThat(runtime.commandsRun() - c0).isEqualTo(6);
    Await.until(WAIT, "the 20 anchored units running", () -> runtime.states(units.subList(0, 20)),
        m -> m.values().stream().allMatch(st -> st.subState().equals("running")));
    assertThat(showInside("anchored-held.service", "Description")).isEqualTo("new");
    assertThat(awaitState(runtime, "anchored-held.service", "active", "running").mainPid()).as("not restarted")
        .isEqualTo(heldPid);
    var others = runtime.states(List.of("anchored-bad.service", "anchored-needs.service", "anchored-refuses.service"));
    assertThat(others.get("anchored-bad.service").loadState()).isEqualTo("bad-setting");
    assertThat(others.get("anchored-needs.service").activeState()).as("not started without its requirement").isEqualTo("inactive");
    assertThat(others.get("anchored-refuses.service").activeState()).as("refused, as a start of its own is").isEqualTo("inactive");
    Await.until(WAIT, "the anchor target let go of", SystemdRuntimeTest::anchorsLeft, List::isEmpty);
  }

  @Test
  void aUnitWhoseDropInSetsARequirementIsStartedByItsOwnJobAndAStrayAnchorOfAnotherFleetdIsDeleted() throws Exception {
    // a drop-in of one unit's own name adds a missing requirement (through the anchor it would
    // get no job and say nothing); one for every unit of the prefix sets only an environment
    Path needs = host.unitDir().resolve("dropped-3.service.d");
    Path prefix = host.unitDir().resolve("dropped-.service.d");
    Path stray = host.unitDir().resolve("flotilla-start-zz-old-1.target");
    try {
      Files.createDirectories(needs);
      Files.writeString(needs.resolve("needs.conf"), "[Unit]\nRequires=dropped-nowhere.service\n");
      Files.createDirectories(prefix);
      Files.writeString(prefix.resolve("env.conf"), "[Service]\nEnvironment=DROPPED=1\n");
      Files.writeString(stray, "[Unit]\nDescription=left by a fleetd killed mid-start\n");
      var files = new LinkedHashMap<String, String>();
      IntStream.range(0, 10).forEach(i -> files.put("dropped-" + i + ".service", sleeper("dropped " + i)));
      var units = new ArrayList<>(files.keySet());

      long c0 = runtime.commandsRun();
      assertThatThrownBy(() -> runtime.loadAndStart(files, units))
          .isInstanceOf(RuntimeFailure.class)
          .hasMessageContaining("dropped-3.service")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("dropped-4.service"));
      assertThat(runtime.commandsRun() - c0).as("list-units, the anchor's start, list-units, start of dropped-3")
          .isEqualTo(4);
      var others = new ArrayList<>(units);
      others.remove("dropped-3.service");
      Await.until(WAIT, "the 9 anchored units running", () -> runtime.states(others),
          m -> m.values().stream().allMatch(st -> st.subState().equals("running")));
      assertThat(showInside("dropped-5.service", "Environment")).isEqualTo("DROPPED=1");
      assertThat(runtime.states(List.of("dropped-3.service")).get("dropped-3.service").activeState())
          .as("not started without its requirement").isEqualTo("inactive");
      assertThat(stray).as("the stray anchor's file").doesNotExist();
      Await.until(WAIT, "the anchor target let go of", SystemdRuntimeTest::anchorsLeft, List::isEmpty);
    } finally {
      host.exec("rm", "-rf", "/run/systemd/system/dropped-3.service.d", "/run/systemd/system/dropped-.service.d",
          "/run/systemd/system/flotilla-start-zz-old-1.target");
    }
  }

  @Test
  void theDropInDirectoriesOfAUnitAreThoseOfItsNameItsTemplateItsDashPrefixesAndItsType() {
    assertThat(SystemdRuntime.dropInDirectoryNames("web.service")).containsExactly("web.service.d", "service.d");
    assertThat(SystemdRuntime.dropInDirectoryNames("a-b@c-d.socket")).containsExactly(
        "a-b@c-d.socket.d", "a-b@.socket.d", "a-.socket.d", "a-b@c-.socket.d", "socket.d");
  }

  @Test
  void aNewFileOfAUnitNotStartedIsStillCheckedAndAChangedOneReloaded() {
    runtime.load(Map.of("mixed-changed.service", sleeper("first")));
    long c0 = runtime.commandsRun();
    // a new unit to start, a new one only loaded (checked with one show), none changed: no reload
    runtime.loadAndStart(Map.of("mixed-run.service", sleeper("run"), "mixed-idle.service", sleeper("idle")),
        List.of("mixed-run.service"));
    assertThat(runtime.commandsRun() - c0).as("show of mixed-idle.service, start").isEqualTo(2);
    awaitState(runtime, "mixed-run.service", "active", "running");
    assertThat(runtime.states(List.of("mixed-idle.service")).get("mixed-idle.service").loadState()).isEqualTo("loaded");
    // a changed file: one daemon-reload before the start, and no second start
    long c1 = runtime.commandsRun();
    runtime.loadAndStart(Map.of("mixed-changed.service", sleeper("second")), List.of("mixed-changed.service"));
    assertThat(runtime.commandsRun() - c1).as("daemon-reload, start").isEqualTo(2);
    assertThat(showInside("mixed-changed.service", "Description")).isEqualTo("second");
    awaitState(runtime, "mixed-changed.service", "active", "running");
    // a unit with no file at all still fails, naming it
    assertThatThrownBy(() -> runtime.loadAndStart(Map.of(), List.of("mixed-nowhere.service")))
        .isInstanceOf(RuntimeFailure.class).hasMessageContaining("mixed-nowhere.service")
        .hasMessageContaining("not found");
  }

  @Test
  void reportedStatesSayWhatShowSaysAndCostOneListForUnitsSystemdHas() {
    var files = new LinkedHashMap<String, String>();
    IntStream.range(0, 20).forEach(i -> files.put("listed-" + i + ".service", sleeper("listed " + i)));
    files.put("listed-fails.service", "[Service]\nExecStart=/bin/false\n");
    var running = new ArrayList<>(files.keySet());
    running.remove("listed-fails.service");
    runtime.loadAndStart(files, files.keySet());
    Await.until(WAIT, "20 running, one failed", () -> runtime.states(files.keySet()),
        m -> running.stream().allMatch(u -> m.get(u).subState().equals("running"))
            && m.get("listed-fails.service").activeState().equals("failed"));

    long c0 = runtime.commandsRun();
    var quick = runtime.reportedStates(files.keySet());
    assertThat(runtime.commandsRun() - c0).as("one systemctl list-units, no show").isEqualTo(1);
    assertThat(quick.get("listed-3.service")).isEqualTo(new UnitStatus("loaded", "active", "running", 0));
    assertThat(quick.get("listed-fails.service")).isEqualTo(new UnitStatus("loaded", "failed", "failed", 0));

    // units systemd does not hold are read with show, as states() reads them; a template is not asked
    runtime.load(Map.of("listed-idle.service", sleeper("idle"), "listed-broken.service", "[Service\nBogus\n"));
    var all = new ArrayList<>(files.keySet());
    all.addAll(List.of("listed-idle.service", "listed-broken.service", "listed-nowhere.service", "listed@.service"));
    var full = runtime.states(all);
    var reported = runtime.reportedStates(all);
    assertThat(reported.keySet()).containsExactlyElementsOf(full.keySet());
    for (String u : all) {
      assertThat(reported.get(u).sameStates(full.get(u))).as("%s: %s vs show's %s", u, reported.get(u), full.get(u))
          .isTrue();
    }
    assertThat(reported.get("listed-nowhere.service")).isEqualTo(UnitStatus.NOT_FOUND);
    assertThat(reported.get("listed@.service")).isEqualTo(UnitStatus.NOT_FOUND);
    assertThat(reported.get("listed-idle.service").loadState()).isEqualTo("loaded");
    assertThat(reported.get("listed-broken.service").loadState()).isNotEqualTo("loaded");
  }

  @Test
  void listUnitsLinesAreParsedByTheirFirstFourColumns() {
    var out = SystemdRuntime.parseListUnits(List.of("a\\x2db@x\\x20y.service", "web.service", "gone.service"),
        "a\\x2db@x\\x20y.service loaded active running a\\x2db@x\\x20y.service\n"
            + "web.service           loaded failed failed  My web server, with spaces\n"
            + "other.service         loaded active running not asked about\n"
            + "half.service loaded\n\n");
    assertThat(out).containsOnlyKeys("a\\x2db@x\\x20y.service", "web.service");
    assertThat(out.get("web.service")).isEqualTo(new UnitStatus("loaded", "failed", "failed", 0));
  }

  @Test
  void aFailedDaemonReloadIsReportedInOneLineAndRetriedByTheNextLoad(@TempDir Path dir) throws Exception {
    // a command prefix that fails the first command it sees, then hands every command to the host
    Path failOnce = dir.resolve("fail-once");
    Files.writeString(failOnce, "");
    Path wrapper = dir.resolve("systemd-once-broken");
    Files.writeString(wrapper, "#!/bin/sh\n"
        + "if [ -e " + failOnce + " ]; then rm " + failOnce + "; echo 'Failed to reload daemon: boom' >&2;"
        + " echo 'second line' >&2; exit 1; fi\n"
        + "exec " + String.join(" ", host.commandPrefix()) + " \"$@\"\n");
    Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwx------"));
    var flaky = new SystemdRuntime(host.runtimeOptions().withCommandPrefix(List.of(wrapper.toString())));
    // running, so that systemd keeps it in memory (an idle unit is read afresh from disk)
    runtime.load(Map.of("retried.service", sleeper("v1")));
    runtime.start(List.of("retried.service"));
    awaitState(runtime, "retried.service", "active", "running");
    assertThat(showInside("retried.service", "Description")).isEqualTo("v1");

    assertThatThrownBy(() -> flaky.load(Map.of("retried.service", sleeper("v2"))))
        .isInstanceOf(RuntimeFailure.class)
        .hasMessage("`" + wrapper + " systemctl daemon-reload` exited 1: Failed to reload daemon: boom");
    assertThat(showInside("retried.service", "Description")).isEqualTo("v1");
    assertThat(showInside("retried.service", "NeedDaemonReload")).isEqualTo("yes");

    long before = flaky.commandsRun();
    flaky.load(Map.of("retried.service", sleeper("v2")));
    assertThat(flaky.commandsRun() - before).as("the unchanged file is reloaded all the same").isEqualTo(1);
    assertThat(showInside("retried.service", "Description")).isEqualTo("v2");
  }

  /** Drains changes until the journal follower is live (it reached the end of the journal). */
  private static void awaitFollowing(SystemdRuntime rt) {
    Await.until(WAIT, "the journal follower to be live", rt::changes, StateChanges::live);
  }

  /** Drains changes until they name {@code unit}; returns the milliseconds since {@code t0}. */
  private static long awaitChangeOf(SystemdRuntime rt, String unit, long t0) {
    Set<String> seen = new TreeSet<>();
    Await.until(WAIT, "a change of " + unit, () -> {
      seen.addAll(rt.changes().units());
      return seen;
    }, x -> x.contains(unit));
    return (System.nanoTime() - t0) / 1_000_000;
  }

  private long mainPid(String unit) {
    return Long.parseLong(showInside(unit, "MainPID"));
  }

  @Test
  void changesNameUnitsKilledStoppedOrFailingBehindOurBackWithinASecond() {
    java.util.concurrent.atomic.AtomicInteger signals = new java.util.concurrent.atomic.AtomicInteger();
    runtime.signalChangesTo(signals::incrementAndGet); // the agent's wake-up
    runtime.load(Map.of("watched.service", sleeper("watched"),
        "fails-later.service", "[Service]\nExecStart=/bin/sh -c 'sleep 2; exit 3'\n"));
    runtime.start(List.of("watched.service"));
    awaitState(runtime, "watched.service", "active", "running");
    awaitFollowing(runtime);

    // its main process killed inside the host, not through the runtime
    int signalsBefore = signals.get();
    long t0 = System.nanoTime();
    assertThat(host.exec("kill", "-9", Long.toString(mainPid("watched.service"))).exitCode()).isZero();
    long killedMs = awaitChangeOf(runtime, "watched.service", t0);
    assertThat(signals.get()).as("the change was signalled as well as queued").isGreaterThan(signalsBefore);
    // PID 1 logs in the same turn as it changes the state: a read after the line sees the new state
    assertThat(runtime.states(List.of("watched.service")).get("watched.service"))
        .isEqualTo(new UnitStatus("loaded", "failed", "failed", 0));

    // started and stopped by someone else's systemctl
    t0 = System.nanoTime();
    assertThat(host.exec("systemctl", "start", "watched.service").exitCode()).isZero();
    long startedMs = awaitChangeOf(runtime, "watched.service", t0);
    assertThat(runtime.states(List.of("watched.service")).get("watched.service").subState()).isEqualTo("running");
    t0 = System.nanoTime();
    assertThat(host.exec("systemctl", "stop", "watched.service").exitCode()).isZero();
    long stoppedMs = awaitChangeOf(runtime, "watched.service", t0);
    assertThat(runtime.states(List.of("watched.service")).get("watched.service"))
        .isEqualTo(new UnitStatus("loaded", "inactive", "dead", 0));

    // a service whose process fails by itself two seconds after it started
    runtime.start(List.of("fails-later.service"));
    awaitChangeOf(runtime, "fails-later.service", System.nanoTime()); // "Started"
    t0 = System.nanoTime();
    long failedMs = awaitChangeOf(runtime, "fails-later.service", t0);
    assertThat(runtime.states(List.of("fails-later.service")).get("fails-later.service").activeState())
        .isEqualTo("failed");
    System.out.printf("journal follower: kill -9 seen after %d ms, systemctl start %d ms, systemctl stop %d ms"
        + " (each including the systemctl run through nsenter); self-failing unit (exits 2 s after its start) seen %d ms after its Started line%n",
        killedMs, startedMs, stoppedMs, failedMs);
    assertThat(killedMs).as("kill -9 to change seen, ms").isLessThan(2_000);
    assertThat(startedMs).as("systemctl start to change seen, ms").isLessThan(2_000);
    assertThat(stoppedMs).as("systemctl stop to change seen, ms").isLessThan(2_000);
    assertThat(failedMs).as("self-failing unit (exits 2 s after start) to change seen, ms").isLessThan(4_000);

    // one long-lived follower did all of that, and close() ends it
    long follower = runtime.followerPid().orElseThrow();
    assertThat(runtime.commandsRun()).isLessThan(20);
    runtime.close();
    assertThat(runtime.followerPid()).isEmpty();
    assertThat(ProcessHandle.of(follower)).isEmpty();
  }

  @Test
  void aKilledFollowerIsRestartedFromItsLastEntryAndMissesNothing() {
    runtime.load(Map.of("missed.service", sleeper("missed")));
    runtime.start(List.of("missed.service"));
    awaitState(runtime, "missed.service", "active", "running");
    awaitFollowing(runtime);
    long spawned = runtime.commandsRun();

    // kill the journalctl (the child of nsenter, which then exits with it)
    long nsenter = runtime.followerPid().orElseThrow();
    var journalctl = ProcessHandle.of(nsenter).orElseThrow().children().findFirst().orElseThrow();
    journalctl.destroyForcibly();
    Await.until(WAIT, "the follower to notice it is down", runtime::changes, c -> !c.live());

    // a change while it is down (it waits a second before it restarts)
    assertThat(host.exec("kill", "-9", Long.toString(mainPid("missed.service"))).exitCode()).isZero();
    awaitChangeOf(runtime, "missed.service", System.nanoTime());
    assertThat(runtime.changes().live()).isTrue();
    assertThat(runtime.commandsRun()).as("one journalctl started again").isEqualTo(spawned + 1);
    assertThat(runtime.followerPid().orElseThrow()).isNotEqualTo(nsenter);
  }
}
