package dev.flotilla.agent.runtime.systemd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flotilla.agent.runtime.RuntimeFailure;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class CommandRunnerTest {

  @Test
  void readsLargeStdoutAndStderrTogetherWithoutStalling() {
    var runner = new CommandRunner(List.of(), Duration.ofSeconds(30));
    // well past a pipe buffer (64 KiB) on both streams at once
    var r = runner.run(List.of("sh", "-c", "seq 1 200000; seq 1 100000 >&2; exit 3"));

    assertThat(r.exitCode()).isEqualTo(3);
    assertThat(r.timedOut()).isFalse();
    assertThat(r.stdout().lines().count()).isEqualTo(200000);
    assertThat(r.stderr().lines().count()).isEqualTo(100000);
    assertThat(r.firstErrorLine()).isEqualTo("1");
    assertThat(runner.spawned()).isEqualTo(1);
  }

  @Test
  void killsACommandAndItsChildrenAtTheDeadline() {
    var runner = new CommandRunner(List.of("sh", "-c", "sleep 60 & echo $!; wait", "sh"), Duration.ofMillis(300));
    long start = System.nanoTime();

    var r = runner.run(List.of());

    assertThat(r.timedOut()).isTrue();
    assertThat(r.ok()).isFalse();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    long child = Long.parseLong(r.stdout().strip());
    // killed at once; gone (reaped by init) shortly after, long before its 60 s are up
    Await.until(Duration.ofSeconds(5), "the background sleep " + child + " to be gone",
        () -> ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false), alive -> !alive);
  }

  @Test
  void aCommandThatCannotStartIsAFailureNamingIt() {
    var runner = new CommandRunner(List.of("/nonexistent/nsenter"), Duration.ofSeconds(5));

    assertThatThrownBy(() -> runner.run(List.of("systemctl", "daemon-reload")))
        .isInstanceOf(RuntimeFailure.class)
        .hasMessageContaining("/nonexistent/nsenter systemctl daemon-reload");
  }

  @Test
  void longCommandLinesAreCutInMessages() {
    var rendered = CommandRunner.render(List.of("systemctl", "start", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"));

    assertThat(rendered).isEqualTo("systemctl start a b c d e f … (+5 more)");
  }
}
