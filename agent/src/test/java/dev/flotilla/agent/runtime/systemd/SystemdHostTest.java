package dev.flotilla.agent.runtime.systemd;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The fixture itself: a real, isolated systemd that is gone after close. */
class SystemdHostTest {

  @Test
  void bootsAnIsolatedSystemdAndLeavesNothingBehind() throws Exception {
    long pid;
    var marker = "flotilla-host-test-" + ProcessHandle.current().pid();
    try (var host = SystemdHost.start("flotilla-host-test")) {
      pid = host.pid();
      assertThat(Files.readString(Path.of("/proc/" + pid + "/comm")).strip()).isEqualTo("systemd");
      assertThat(host.exec("cat", "/proc/1/comm").output()).as("systemd is PID 1 inside").isEqualTo("systemd");
      assertThat(host.exec("hostname").output()).isEqualTo("flotilla-host-test");
      assertThat(host.exec("systemctl", "is-system-running").output()).isIn("running", "degraded");
      assertThat(host.exec("sh", "-c", "echo out; echo err >&2; exit 7"))
          .isEqualTo(new SystemdHost.ExecResult(7, "out\n", "err\n"));
      // booted its own target, not multi-user.target with the machine's services
      assertThat(host.exec("systemctl", "is-active", "multi-user.target").output()).isEqualTo("inactive");
      assertThat(host.exec("systemctl", "is-active", SystemdHost.BOOT_TARGET).output()).isEqualTo("active");
      assertThat(host.exec("systemctl", "is-active", "systemd-journald.service").output()).isEqualTo("active");
      // what would edit the machine's /etc or kernel settings does not run
      assertThat(host.exec("systemctl", "is-enabled", "systemd-sysusers.service").output()).isEqualTo("masked-runtime");
      assertThat(host.exec("systemctl", "is-active", "systemd-sysctl.service").output()).isEqualTo("inactive");
      assertThat(host.exec("test", "-d", "/run/lock").exitCode()).as("tmpfiles set up the private /run").isZero();
      // /run is its own: a file written there from outside is not in the machine's /run
      Files.writeString(host.runDir().resolve(marker), "x");
      assertThat(host.exec("cat", "/run/" + marker).output()).isEqualTo("x");
      assertThat(Files.exists(Path.of("/run", marker))).isFalse();
    }
    assertThat(ProcessHandle.of(pid)).as("systemd PID %d after close", pid).isEmpty();
  }

  @Test
  void twoHostsRunSideBySide() {
    try (var a = SystemdHost.start(); var b = SystemdHost.start()) {
      assertThat(a.pid()).isNotEqualTo(b.pid());
      assertThat(a.exec("hostname").output()).isEqualTo(a.hostname()).isNotEqualTo(b.hostname());
      assertThat(b.exec("hostname").output()).isEqualTo(b.hostname());
      assertThat(a.unitDir()).isNotEqualTo(b.unitDir());
    }
  }
}
