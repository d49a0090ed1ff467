package dev.flotilla.agent.runtime.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.agent.runtime.UnitStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ProcessRuntime in a real agent JVM ({@link ChildAgent}) that dies: by SIGKILL (a new runtime on
 * the same state directory adopts the unit) and by SIGTERM (its shutdown hook stops the unit).
 */
class ProcessRuntimeJvmTest {

  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir
  Path dir;

  private Process agent;
  private ProcessRuntime rt;
  private final Set<Long> sessions = new HashSet<>();

  @AfterEach
  void cleanUp() {
    try {
      if (agent != null) {
        agent.destroyForcibly();
      }
      if (rt != null) {
        rt.close();
      }
    } finally {
      Procs.killSessions(sessions);
    }
  }

  @Test
  void aRestartedAgentAdoptsTheMainProcessOfAKilledOne() throws Exception {
    Path state = dir.resolve("state");
    long pid = startAgent(state, "ExecStart=/bin/sleep 1000");

    agent.destroyForcibly(); // kill -9: no shutdown hook, no close()
    assertThat(agent.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    assertThat(Procs.alive(pid)).as("the unit outlives a killed agent").isTrue();

    rt = new ProcessRuntime(state);

    assertThat(rt.installed()).containsExactly("web.service");
    assertThat(rt.states(List.of("web.service")).get("web.service"))
        .isEqualTo(new UnitStatus("loaded", "active", "running", pid));
    rt.start(List.of("web.service")); // already running: nothing new starts
    assertThat(rt.states(List.of("web.service")).get("web.service").mainPid()).isEqualTo(pid);

    rt.stop(List.of("web.service"));
    Procs.await("web.service to stop", WAIT, () -> state(rt).subState(), s -> s.equals("dead"),
        () -> rt.status("web.service"));
    assertThat(state(rt).activeState()).isEqualTo("inactive");
    assertThat(Procs.alive(pid)).isFalse();
  }

  @Test
  void sigtermToTheAgentStopsItsUnitsBeforeItExits() throws Exception {
    // they ignore SIGTERM: close() must wait out TimeoutStopSec and SIGKILL them before the JVM may exit
    long pid = startAgent(dir.resolve("state"), "ExecStart=/bin/sh -c \"trap '' TERM; sleep 1000 & sleep 1001\"",
        "TimeoutStopSec=500ms");
    List<Long> tree = Procs.await("sh and its two sleeps", WAIT, () -> Procs.tree(pid), t -> t.size() == 3, () -> "");

    agent.destroy(); // SIGTERM: the shutdown hook closes the runtime

    assertThat(agent.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    // close() returned only once they were gone, and the JVM exited after close()
    assertThat(Procs.alive(tree)).isEmpty();
  }

  private static UnitStatus state(ProcessRuntime rt) {
    return rt.states(List.of("web.service")).get("web.service");
  }

  /** Starts a ChildAgent running web.service; returns its main PID once it runs. */
  private long startAgent(Path state, String... serviceLines) throws IOException {
    Path unitFile = dir.resolve("web.service");
    Files.writeString(unitFile, "[Service]\n" + String.join("\n", serviceLines) + "\n");
    Path out = dir.resolve("agent.out");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    agent = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), ChildAgent.class.getName(),
        state.toString(), "web.service", unitFile.toString())
        .redirectErrorStream(true)
        .redirectOutput(out.toFile())
        .start();
    String line = Procs.await("the agent to start web.service", WAIT, () -> readyLine(out),
        l -> l != null || !agent.isAlive(), () -> "");
    assertThat(line).as("agent output: %s", read(out)).isNotNull().startsWith("READY ");
    long pid = Long.parseLong(line.substring("READY ".length()).strip());
    sessions.add(pid);
    return pid;
  }

  private static String readyLine(Path out) {
    return read(out).lines().filter(l -> l.startsWith("READY ") || l.startsWith("FAILED ")).findFirst().orElse(null);
  }

  private static String read(Path f) {
    try {
      return Files.exists(f) ? Files.readString(f) : "";
    } catch (IOException e) {
      return "";
    }
  }
}
