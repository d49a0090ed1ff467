package dev.flotilla.cli.command;

import dev.flotilla.cli.FctlException;
import dev.flotilla.cli.client.FleetSchema.Unit;
import dev.flotilla.cli.units.UnitSelector;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** fleetctl stop: launched units back to loaded (still scheduled, stopped). */
@Command(name = "stop", description = {
    "Stop units in the cluster; they stay loaded on their machines and can be started again.",
    "UNIT is a unit name or a glob over the units in the cluster."})
public final class StopCommand extends StateChangeCommand {

  @Parameters(arity = "1..*", paramLabel = "UNIT")
  List<String> units;

  @Override
  public Integer call() {
    List<Unit> selected = UnitSelector.select(units, selectable(units), false);
    List<String> names = new ArrayList<>();
    for (Unit u : selected) {
      // fleetctl refuses to stop what is not loaded; checked for all before any changes
      if ("inactive".equals(u.desired()) && !isGlobal(u)) {
        throw new FctlException("cannot stop unit " + u.name() + ": it is not loaded (desired state inactive); "
            + "start it with 'fctl start " + u.name() + "' or leave it out");
      }
      names.add(u.name());
    }
    return moveTo(names, "loaded", "stop");
  }
}
