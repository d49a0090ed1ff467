package dev.flotilla.agent.runtime.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitName;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Reading [Service] settings: time spans, Exec lines, environment, specifiers. */
class ServiceSpecTest {

  private static ServiceSpec spec(String unit, String service) {
    return ServiceSpec.parse(UnitName.parse(unit), UnitFile.parse("[Service]\n" + service));
  }

  @Test
  void timeSpansReadLikeSystemd() {
    assertThat(TimeSpans.parse("5s")).isEqualTo(Duration.ofSeconds(5));
    assertThat(TimeSpans.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(TimeSpans.parse("1min")).isEqualTo(Duration.ofMinutes(1));
    assertThat(TimeSpans.parse("1min 30s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(TimeSpans.parse("2h5m")).isEqualTo(Duration.ofMinutes(125));
    assertThat(TimeSpans.parse("10")).isEqualTo(Duration.ofSeconds(10));
    assertThat(TimeSpans.parse("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(TimeSpans.parse("infinity")).isEqualTo(TimeSpans.INFINITY);
    assertThatThrownBy(() -> TimeSpans.parse("5 parsecs")).hasMessageContaining("unknown unit 'parsecs'");
    assertThatThrownBy(() -> TimeSpans.parse("soon")).hasMessageContaining("expected a number");
  }

  @Test
  void defaultsAndOverrides() {
    ServiceSpec s = spec("web.service", "ExecStart=/bin/true\n");
    assertThat(s.type()).isEqualTo(ServiceType.SIMPLE);
    assertThat(s.restart()).isEqualTo(RestartPolicy.NO);
    assertThat(s.restartSec()).isEqualTo(Duration.ofMillis(100));
    assertThat(s.timeoutStopSec()).isEqualTo(Duration.ofSeconds(10));
    assertThat(s.startLimitBurst()).isEqualTo(5);

    ServiceSpec t = spec("web.service", "ExecStart=/bin/true\nTimeoutStopSec=0\nRestart=on-abnormal\nRestartSec=2\n"
        + "User=nobody\n");
    assertThat(t.timeoutStopSec()).isEqualTo(TimeSpans.INFINITY); // 0 disables the timeout, as in systemd
    assertThat(t.restart()).isEqualTo(RestartPolicy.ON_ABNORMAL);
    assertThat(t.restartSec()).isEqualTo(Duration.ofSeconds(2));
    assertThat(t.ignoredSettings()).containsExactly("User");
  }

  @Test
  void restartPoliciesFollowSystemdsTable() {
    assertThat(RestartPolicy.ON_FAILURE.restartsAfter(Result.EXIT_CODE)).isTrue();
    assertThat(RestartPolicy.ON_FAILURE.restartsAfter(Result.SUCCESS)).isFalse();
    assertThat(RestartPolicy.ON_SUCCESS.restartsAfter(Result.SUCCESS)).isTrue();
    assertThat(RestartPolicy.ON_ABNORMAL.restartsAfter(Result.EXIT_CODE)).isFalse();
    assertThat(RestartPolicy.ON_ABNORMAL.restartsAfter(Result.SIGNAL)).isTrue();
    assertThat(RestartPolicy.ALWAYS.restartsAfter(Result.START_LIMIT_HIT)).isFalse();
    assertThat(ExitStatus.fromExitValue(143).mainResult(false)).isEqualTo(Result.SUCCESS); // SIGTERM is clean
    assertThat(ExitStatus.fromExitValue(137).mainResult(false)).isEqualTo(Result.SIGNAL);
  }

  @Test
  void execLinesSplitLikeSystemdAndExpandVariablesAtRunTime() {
    ExecCommand c = ExecCommand.parse("ExecStart", "-/bin/echo \"a b\" ${X}y $X 'c\\'d' $$HOME \\x41");
    assertThat(c.ignoreFailure()).isTrue();
    assertThat(c.argv(Map.of("X", "1 2"))).containsExactly("/bin/echo", "a b", "1 2y", "1", "2", "c'd", "$HOME", "A");
    assertThat(c.argv(Map.of())).containsExactly("/bin/echo", "a b", "y", "c'd", "$HOME", "A");
    assertThat(ExecCommand.parse("ExecStart", "sleep 1").words()).containsExactly("sleep", "1");

    assertThatThrownBy(() -> ExecCommand.parse("ExecStart", "@/bin/sleep sleeper 1"))
        .hasMessage("ExecStart=@/bin/sleep sleeper 1: the '@' prefix is not supported by the process runtime "
            + "(only '-', to ignore a failure); remove it or run the unit with --runtime=systemd");
    assertThatThrownBy(() -> ExecCommand.parse("ExecStart", "bin/sleep 1")).hasMessageContaining("relative path");
    assertThatThrownBy(() -> ExecCommand.parse("ExecStart", "/bin/sh -c 'oops")).hasMessageContaining("unterminated");
  }

  @Test
  void specifiersAndEnvironmentAreReadAtLoad() {
    ServiceSpec s = spec("web@8080.service",
        "Environment=\"A=x y\" B=%i\nEnvironment=C=\\x41\nExecStart=/bin/run --name %n --port %i %%\n");
    assertThat(s.environment()).isEqualTo(Map.of("A", "x y", "B", "8080", "C", "A"));
    assertThat(s.execStart().get(0).argv(Map.of()))
        .isEqualTo(List.of("/bin/run", "--name", "web@8080.service", "--port", "8080", "%"));
    assertThatThrownBy(() -> spec("web.service", "ExecStart=/bin/run %Z\n")).hasMessageContaining("specifier %Z");
    assertThatThrownBy(() -> spec("web.service", "Environment=NOVALUE\nExecStart=/bin/true\n"))
        .hasMessageContaining("'NOVALUE' is not NAME=value");
    assertThatThrownBy(() -> spec("web.service", "Type=forking\nExecStart=/bin/true\n"))
        .hasMessageContaining("Type=forking is not supported");
    assertThatThrownBy(() -> spec("web.service", "Type=simple\n")).hasMessageContaining("no ExecStart=");
    assertThatThrownBy(() -> spec("web.service", "ExecStart=/bin/true\nTimeoutStopSec=fast\n"))
        .hasMessageStartingWith("TimeoutStopSec=fast:");
  }
}
