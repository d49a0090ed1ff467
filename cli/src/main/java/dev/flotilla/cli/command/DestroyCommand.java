package dev.flotilla.cli.command;

import dev.flotilla.cli.client.FleetSchema.Unit;
import dev.flotilla.cli.units.UnitSelector;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** fleetctl destroy: removes units from the cluster (stopped and unloaded wherever they run). */
@Command(name = "destroy", description = {
    "Remove units from the cluster; they stop wherever they run and must be submitted again to start.",
    "UNIT is a unit name or a glob over the units in the cluster (templates included)."})
public final class DestroyCommand extends ClusterCommand {

  @Parameters(arity = "1..*", paramLabel = "UNIT")
  List<String> units;

  @Override
  public Integer call() {
    List<Unit> selected = UnitSelector.select(units, client().units(), true);
    for (Unit u : selected) {
      if (!client().destroyUnit(u.name())) {
        err().println("Unit " + u.name() + " was already destroyed");
        continue;
      }
      out().println("Destroyed " + u.name());
    }
    return 0;
  }
}
