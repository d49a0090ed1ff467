package dev.flotilla.cli.command;

import dev.flotilla.cli.client.FleetSchema.Unit;
import dev.flotilla.cli.output.JsonOutput;
import dev.flotilla.cli.units.UnitSubmitter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** fleetctl cat: the unit file as the cluster has it (canonical form: comments and layout are not kept). */
@Command(name = "cat", description = "Print a unit file as the cluster has it.")
public final class CatCommand extends ClusterCommand {

  @Parameters(arity = "1", paramLabel = "UNIT")
  String unit;

  @Override
  public Integer call() {
    Unit u = existingUnit(unit);
    if (json()) {
      JsonOutput.print(out(), u);
    } else {
      out().print(UnitSubmitter.unitFile(u).serialize());
    }
    out().flush();
    return 0;
  }
}
