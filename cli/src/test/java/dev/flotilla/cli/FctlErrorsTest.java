package dev.flotilla.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.cli.FleetFixture.Run;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input and failures: each is one line on stderr saying what failed and what to do, never a
 * stack trace; exit status 1 for failures, 2 for usage errors; nothing is changed in the cluster.
 */
class FctlErrorsTest {

  @TempDir
  Path dir;

  private FleetFixture fleet;

  @BeforeEach
  void start() throws IOException {
    fleet = new FleetFixture(null);
  }

  @AfterEach
  void stop() {
    fleet.close();
  }

  @Test
  void aMalformedUnitFileIsReportedWithItsLine() throws IOException {
    Path bad = dir.resolve("bad.service");
    Files.writeString(bad, "[Unit]\nDescription=Bad\n[Service\nExecStart=/bin/true\n");
    Run r = fleet.fctl("start", bad.toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).startsWith("fctl: invalid unit file " + bad + ": line 3: ").endsWith("; fix the file and try again\n");
    assertThat(r.err().lines()).hasSize(1);
    assertThat(fleet.registry.units()).isEmpty();
  }

  @Test
  void anInvalidXFleetOptionIsReportedWithItsLine() throws IOException {
    Path bad = dir.resolve("bad.service");
    Files.writeString(bad, "[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nMachineMetadata=region=east\nGlobal=maybe\n");
    Path good = dir.resolve("good.service");
    Files.writeString(good, "[Service]\nExecStart=/bin/true\n");
    Run r = fleet.fctl("submit", good.toString(), bad.toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("fctl: invalid unit bad.service (file " + bad + "): line 6: Global=maybe: not a "
        + "boolean; use true or false; fix [X-Fleet] and try again\n");
    assertThat(fleet.registry.units()).as("nothing submitted, not even the good unit").isEmpty();

    Files.writeString(bad, "[Service]\nExecStart=/bin/true\n[X-Fleet]\nWeight=3\n");
    assertThat(fleet.fctl("submit", bad.toString()).err()).contains("line 4: unknown option Weight= in [X-Fleet]");
  }

  @Test
  void anEmptyUnitFileOrABadNameIsRefused() throws IOException {
    Path empty = dir.resolve("empty.service");
    Files.writeString(empty, "# nothing\n");
    Run r = fleet.fctl("submit", empty.toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).startsWith("fctl: invalid unit file " + empty + ": it has no options");
    Path badName = dir.resolve("bad name.service");
    Files.writeString(badName, "[Service]\nExecStart=/bin/true\n");
    Run name = fleet.fctl("submit", badName.toString());
    assertThat(name.exit()).isEqualTo(1);
    assertThat(name.err()).startsWith("fctl: invalid unit name 'bad name.service'");
  }

  @Test
  void unknownUnits() {
    Run start = fleet.fctl("start", "nope.service");
    assertThat(start.exit()).isEqualTo(1);
    assertThat(start.err()).isEqualTo("fctl: unit nope.service is not in the cluster and there is no unit file "
        + "nope.service; give the path of its unit file, or see the units with 'fctl list-unit-files'\n");
    for (String cmd : new String[] {"stop", "unload", "destroy", "why"}) {
      Run r = fleet.fctl(cmd, "nope");
      assertThat(r.exit()).as(cmd).isEqualTo(1);
      assertThat(r.err()).as(cmd)
          .isEqualTo("fctl: unit nope.service does not exist; see the units with 'fctl list-unit-files'\n");
    }
  }

  @Test
  void usageErrorsExit2WithPicocliMessage() {
    Run flag = fleet.fctl("list-units", "--bogus");
    assertThat(flag.exit()).isEqualTo(2);
    assertThat(flag.err()).isEqualTo("fctl: Unknown option: '--bogus'; see 'fctl list-units --help'\n");
    Run command = fleet.fctl("lsit-units");
    assertThat(command.exit()).isEqualTo(2);
    assertThat(command.err()).isEqualTo("fctl: unknown command 'lsit-units' (did you mean list-units?); see 'fctl --help'\n");
    Run missing = fleet.fctl("start");
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.err()).isEqualTo("fctl: Missing required parameter: 'UNIT'; see 'fctl start --help'\n");
    Run fields = fleet.fctl("list-machines", "--fields", "machine,cpu");
    assertThat(fields.exit()).isEqualTo(2);
    assertThat(fields.err()).startsWith("fctl: invalid field 'cpu' in --fields; valid fields are machine,ip,metadata");
    Run attempts = fleet.fctl("start", "--block-attempts", "many", "x.service");
    assertThat(attempts.exit()).isEqualTo(2);
    assertThat(attempts.err()).startsWith("fctl: Invalid value for option '--block-attempts': 'many' is not an int");
    Run negative = fleet.fctl("stop", "--block-attempts=-1", "x.service");
    assertThat(negative.exit()).isEqualTo(2);
    assertThat(negative.err()).startsWith("fctl: --block-attempts must be 0 (no limit) or more, got -1");
    Run output = fleet.fctl("--output", "yaml", "list-units");
    assertThat(output.exit()).isEqualTo(2);
    assertThat(output.err()).contains("--output", "TABLE, JSON", "'yaml'");
    Run none = FleetFixture.run(new String[0], Map.of());
    assertThat(none.exit()).isEqualTo(2);
    assertThat(none.err()).contains("Usage: fctl");
    Run help = fleet.fctl("start", "--help");
    assertThat(help.exit()).isZero();
    assertThat(help.out()).contains("Usage: fctl start", "--no-block", "--block-attempts=N");
  }

  @Test
  void anUnreachableEndpointIsNamed() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    String url = "http://127.0.0.1:" + port;
    Run r = FleetFixture.run(new String[] {"--endpoint", url, "list-machines"}, Map.of());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("fctl: cannot reach fleetd at " + url + ": connection refused; is fleetd running "
        + "there? Point fctl at it with --endpoint or FLEETCTL_ENDPOINT\n");

    Path socket = dir.resolve("nobody.sock");
    Run unix = FleetFixture.run(new String[] {"list-units"}, Map.of("FLEETCTL_ENDPOINT", "unix://" + socket));
    assertThat(unix.exit()).isEqualTo(1);
    assertThat(unix.err()).startsWith("fctl: cannot reach fleetd at unix://" + socket + ": ");

    Run bad = FleetFixture.run(new String[] {"--endpoint", "unix://var/run/fleet.sock", "list-units"}, Map.of());
    assertThat(bad.exit()).isEqualTo(2);
    assertThat(bad.err()).startsWith("fctl: endpoint 'unix://var/run/fleet.sock' names host 'var'");
    Run noScheme = FleetFixture.run(new String[] {"list-units", "--endpoint", "10.0.0.1:49153"}, Map.of());
    assertThat(noScheme.exit()).isEqualTo(2);
    assertThat(noScheme.err()).contains("write unix:///var/run/fleet.sock or http://10.0.0.1:49153");
  }

  @Test
  void aSilentEndpointTimesOutAfterTheRequestTimeout() throws IOException {
    // the kernel accepts the connection into the backlog; nobody ever answers
    try (ServerSocket silent = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      String url = "http://127.0.0.1:" + silent.getLocalPort();
      long t0 = System.nanoTime();
      Run r = FleetFixture.run(new String[] {"--request-timeout", "0.3", "--endpoint", url, "list-units"}, Map.of());
      assertThat(r.exit()).isEqualTo(1);
      assertThat(r.err()).isEqualTo("fctl: no answer from fleetd at " + url + " to GET /fleet/v1/state within 0.3 s "
          + "(raise --request-timeout if fleetd is busy)\n");
      assertThat(System.nanoTime() - t0).isLessThan(5_000_000_000L);
    }
  }

  @Test
  void theEndpointComesFromFlagEnvironmentOrDefault() {
    Run env = FleetFixture.run(new String[] {"list-machines", "--no-legend"}, Map.of("FLEETCTL_ENDPOINT", fleet.httpUrl));
    assertThat(env.exit()).as(env.err()).isZero();
    assertThat(env.out()).startsWith("113f16a7...\t10.0.0.1");
    // the flag wins over the environment, before or after the command
    Run flagAfter = FleetFixture.run(new String[] {"list-machines", "--endpoint", fleet.httpUrl},
        Map.of("FLEETCTL_ENDPOINT", "http://127.0.0.1:1"));
    assertThat(flagAfter.exit()).as(flagAfter.err()).isZero();
    Run flagBefore = FleetFixture.run(new String[] {"--endpoint", fleet.httpUrl, "list-machines"},
        Map.of("FLEETCTL_ENDPOINT", "http://127.0.0.1:1"));
    assertThat(flagBefore.exit()).as(flagBefore.err()).isZero();
    Run fallback = FleetFixture.run(new String[] {"list-machines", "--request-timeout", "0.5"}, Map.of());
    assertThat(fallback.err()).contains("unix:///var/run/fleet.sock");
  }

  @Test
  void aTemplateIsSubmittedButNeverStarted() throws IOException {
    Path web = dir.resolve("web@.service");
    Files.writeString(web, "[Service]\nExecStart=/bin/true\n");
    assertThat(fleet.fctl("submit", web.toString()).exit()).isZero();
    // fleetd refuses to launch a template; fctl does not ask, and says so
    Run r = fleet.fctl("start", "--no-block", "web@.service");
    assertThat(r.exit()).isZero();
    assertThat(r.err()).contains("Unit web@.service is a template: submitted, not started");
  }
}
