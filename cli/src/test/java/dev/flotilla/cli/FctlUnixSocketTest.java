package dev.flotilla.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.cli.FleetFixture.Run;
import io.netty.channel.epoll.Epoll;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** fctl over a Unix socket (fleetd's default kind of endpoint), through Netty's native epoll. */
class FctlUnixSocketTest {

  @TempDir
  Path dir;

  @Test
  void commandsWorkOverAUnixSocket() throws Exception {
    Assumptions.assumeTrue(Epoll.isAvailable(), "Netty native epoll is not available: " + Epoll.unavailabilityCause());
    Path socket = dir.resolve("fleet.sock");
    try (FleetFixture fleet = new FleetFixture(socket)) {
      Map<String, String> env = Map.of("FLEETCTL_ENDPOINT", fleet.unixUrl);
      Run machines = FleetFixture.run(new String[] {"list-machines"}, env);
      assertThat(machines.exit()).as(machines.err()).isZero();
      assertThat(machines.out()).isEqualTo("MACHINE\t\tIP\t\tMETADATA\n113f16a7...\t10.0.0.1\tdisk=ssd,region=east\n");

      Path hello = dir.resolve("hello.service");
      Files.writeString(hello, "[Service]\nExecStart=/bin/sleep 1000\n");
      Run start = FleetFixture.run(new String[] {"--endpoint", fleet.unixUrl, "start", "--no-block", hello.toString()},
          Map.of());
      assertThat(start.exit()).as(start.err()).isZero();
      assertThat(start.out()).isEqualTo("Unit hello.service inactive\nTriggered unit hello.service start\n");
      fleet.awaitPlacement("hello.service");
      fleet.report("hello.service", FleetFixture.M1, "loaded", "active", "running");
      Run units = FleetFixture.run(new String[] {"list-units", "--no-legend"}, env);
      assertThat(units.out()).isEqualTo("hello.service\t113f16a7.../10.0.0.1\tactive\trunning\n");
      Run destroy = FleetFixture.run(new String[] {"destroy", "hello"}, env);
      assertThat(destroy.out()).isEqualTo("Destroyed hello.service\n");
    }
  }
}
