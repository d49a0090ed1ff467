package dev.flotilla.cli;

import static dev.flotilla.cli.FleetFixture.M1;
import static dev.flotilla.cli.FleetFixture.M2;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flotilla.cli.FleetFixture.Run;
import dev.flotilla.scheduler.registry.DesiredState;
import dev.flotilla.scheduler.registry.UnitRecord;
import dev.flotilla.scheduler.registry.UnitStateRecord;
import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * list-machines, list-units and list-unit-files against a real fleet API: fleetctl's columns and
 * tab layout, with and without legend, --full, --fields and --output json.
 */
class FctlListTest {
  private static final String HELLO = "[Unit]\nDescription=Hello\n\n[Service]\nExecStart=/bin/sleep 1000\n";

  @TempDir
  Path dir;

  private FleetFixture fleet;
  private final ObjectMapper json = new ObjectMapper();

  @BeforeEach
  void start() throws IOException {
    fleet = new FleetFixture(null);
    fleet.publishSecondMachine();
  }

  @AfterEach
  void stop() {
    fleet.close();
  }

  @Test
  void listMachinesAsFleetctlDoes() throws Exception {
    Run r = fleet.fctl("list-machines");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo(""
        + "MACHINE\t\tIP\t\tMETADATA\n"
        + "113f16a7...\t10.0.0.1\tdisk=ssd,region=east\n"
        + "2c3d4e5f...\t10.0.0.2\t-\n");
    assertThat(r.err()).isEmpty();

    assertThat(fleet.fctl("list-machines", "--no-legend").out()).isEqualTo(""
        + "113f16a7...\t10.0.0.1\tdisk=ssd,region=east\n"
        + "2c3d4e5f...\t10.0.0.2\t-\n");
    String full = "" + M1 + "\t10.0.0.1\tdisk=ssd,region=east\n" + M2 + "\t10.0.0.2\t-\n";
    assertThat(fleet.fctl("list-machines", "-l", "--no-legend").out()).isEqualTo(full);
    assertThat(fleet.fctl("list-machines", "--full", "--no-legend").out()).isEqualTo(full);
    assertThat(fleet.fctl("list-machines", "--fields", "ip,machine").out()).isEqualTo(""
        + "IP\t\tMACHINE\n"
        + "10.0.0.1\t113f16a7...\n"
        + "10.0.0.2\t2c3d4e5f...\n");

    Run j = fleet.fctl("--output", "json", "list-machines");
    assertThat(j.exit()).isZero();
    JsonNode machines = json.readTree(j.out());
    assertThat(machines).hasSize(2);
    assertThat(machines.get(0).get("id").asText()).isEqualTo(M1);
    assertThat(machines.get(0).get("primaryIP").asText()).isEqualTo("10.0.0.1");
    assertThat(machines.get(0).get("metadata").get("region").asText()).isEqualTo("east");
    assertThat(machines.get(1).has("metadata")).isFalse();
  }

  @Test
  void listUnitsShowsReportedStatesWithTheirMachines() throws Exception {
    UnitFile file = UnitFile.parse(HELLO);
    fleet.registry.report(new UnitStateRecord("hello.service", M1, file.hash(), "loaded", "active", "running"));
    fleet.registry.report(new UnitStateRecord("db.service", M2, file.hash(), "loaded", "failed", "failed"));
    fleet.registry.report(new UnitStateRecord("db.service", "deadbeefcafe0000", file.hash(), "loaded", "inactive",
        "dead")); // a machine that has left: no IP

    Run r = fleet.fctl("list-units");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo(""
        + "UNIT\t\tMACHINE\t\t\tACTIVE\t\tSUB\n"
        + "db.service\t2c3d4e5f.../10.0.0.2\tfailed\t\tfailed\n"
        + "db.service\tdeadbeef...\t\tinactive\tdead\n"
        + "hello.service\t113f16a7.../10.0.0.1\tactive\t\trunning\n");
    assertThat(fleet.fctl("list-units", "--no-legend", "--fields", "unit,load,hash").out()).isEqualTo(""
        + "db.service\tloaded\t" + file.hash().shortHex() + "\n"
        + "db.service\tloaded\t" + file.hash().shortHex() + "\n"
        + "hello.service\tloaded\t" + file.hash().shortHex() + "\n");
    assertThat(fleet.fctl("list-units", "-l", "--no-legend", "--fields", "machine,hash").out())
        .startsWith(M2 + "/10.0.0.2\t" + file.hash().hex() + "\n");

    JsonNode states = json.readTree(fleet.fctl("list-units", "--output=json").out());
    assertThat(states).hasSize(3);
    assertThat(states.get(2).get("name").asText()).isEqualTo("hello.service");
    assertThat(states.get(2).get("machineID").asText()).isEqualTo(M1);
    assertThat(states.get(2).get("systemdSubState").asText()).isEqualTo("running");
    assertThat(states.get(2).get("hash").asText()).isEqualTo(file.hash().hex());

    assertThat(fleet.fctl("list-units", "--no-legend").out()).doesNotContain("UNIT");
  }

  @Test
  void emptyListsPrintOnlyTheLegend() {
    assertThat(fleet.fctl("list-units").out()).isEqualTo("UNIT\tMACHINE\tACTIVE\tSUB\n");
    assertThat(fleet.fctl("list-unit-files", "--no-legend").out()).isEmpty();
    assertThat(fleet.fctl("list-unit-files", "--output", "JSON").out().strip()).isEqualTo("[ ]");
  }

  @Test
  void listUnitFilesShowsDesiredAndCurrentStateAndTarget() throws Exception {
    Path hello = dir.resolve("hello.service");
    Files.writeString(hello, HELLO);
    Path global = dir.resolve("monitor.service");
    Files.writeString(global, "[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nGlobal=true\n");
    Run started = fleet.fctl("start", "--no-block", hello.toString(), global.toString());
    assertThat(started.exit()).as(started.err()).isZero();
    String machine = fleet.awaitPlacement("hello.service");
    fleet.report("hello.service", machine, "loaded", "active", "running");
    String ip = machine.equals(M1) ? "10.0.0.1" : "10.0.0.2";
    String hash = UnitFile.parse(HELLO).hash().shortHex();
    String globalHash = UnitFile.parse(Files.readString(global)).hash().shortHex();

    Run r = fleet.fctl("list-unit-files");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo(""
        + "UNIT\t\tHASH\tDSTATE\t\tSTATE\t\tTMACHINE\n"
        + "hello.service\t" + hash + "\tlaunched\tlaunched\t" + machine.substring(0, 8) + ".../" + ip + "\n"
        + "monitor.service\t" + globalHash + "\tlaunched\t-\t\tglobal\n");
    Run full = fleet.fctl("list-unit-files", "--full", "--no-legend", "--fields", "unit,hash,target,desc");
    assertThat(full.out()).isEqualTo(""
        + "hello.service\t" + UnitFile.parse(HELLO).hash().hex() + "\t" + machine + "/" + ip + "\tHello\n"
        + "monitor.service\t" + UnitFile.parse(Files.readString(global)).hash().hex() + "\tglobal\t\t\t\t\t\t-\n");

    JsonNode units = json.readTree(fleet.fctl("--output", "json", "list-unit-files").out());
    assertThat(units).hasSize(2);
    JsonNode u = units.get(0);
    assertThat(u.get("name").asText()).isEqualTo("hello.service");
    assertThat(u.get("desiredState").asText()).isEqualTo("launched");
    assertThat(u.get("currentState").asText()).isEqualTo("launched");
    assertThat(u.get("machineID").asText()).isEqualTo(machine);
    assertThat(u.get("options")).hasSize(2);
    assertThat(u.get("options").get(1).get("value").asText()).isEqualTo("/bin/sleep 1000");
  }

  @Test
  void listsFollowFleetsPagesOf100() {
    UnitFile file = UnitFile.parse("[Service]\nExecStart=/bin/true\n");
    for (int i = 0; i < 150; i++) {
      fleet.registry.create(new UnitRecord(UnitName.parse(String.format("u%03d.service", i)), file,
          DesiredState.INACTIVE));
    }
    Run r = fleet.fctl("list-unit-files", "--no-legend", "--fields", "unit");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out().lines()).hasSize(150).startsWith("u000.service").endsWith("u149.service");
  }
}
