package dev.flotilla.cli.command;

import dev.flotilla.cli.client.ApiErrorException;
import dev.flotilla.cli.client.FleetSchema.HostStatus;
import dev.flotilla.cli.client.FleetSchema.Unit;
import dev.flotilla.cli.output.JsonOutput;
import dev.flotilla.cli.units.UnitSelector;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * fleetctl status: {@code systemctl status} of units, from the machines they run on. fleetctl ran
 * it over SSH; here the unit's machine answers through the fleet API (any machine's API forwards).
 * Every unit is checked before the first is printed, as fleetctl does.
 */
@Command(name = "status", description = {
    "Print the status of units (systemctl status) from the machines they run on.",
    "UNIT is a unit name or a glob over the units in the cluster."})
public final class StatusCommand extends ClusterCommand {

  @Option(names = "--machine", paramLabel = "ID",
      description = "The machine to ask (an ID or a prefix of one), for a global unit running on several")
  String machine;

  @Parameters(arity = "1..*", paramLabel = "UNIT")
  List<String> units;

  @Override
  public Integer call() {
    List<Unit> selected = UnitSelector.select(units, selectable(units), false);
    selected.forEach(ClusterCommand::requirePlaced);
    String machineId = machineId(machine);
    List<HostStatus> all = new ArrayList<>();
    for (int i = 0; i < selected.size(); i++) {
      String name = selected.get(i).name();
      HostStatus s;
      try {
        s = client().status(name, machineId);
      } catch (ApiErrorException e) {
        throw fromHost("status", name, e);
      }
      if (json()) {
        all.add(s);
        continue;
      }
      if (i > 0) {
        out().println(); // as systemctl status separates units
      }
      String text = s.status() == null ? "" : s.status();
      out().print(text.endsWith("\n") || text.isEmpty() ? text : text + "\n");
      out().flush();
    }
    if (json()) {
      JsonOutput.print(out(), all);
    }
    out().flush();
    return 0;
  }
}
