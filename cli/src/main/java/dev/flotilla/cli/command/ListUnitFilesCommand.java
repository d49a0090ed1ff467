package dev.flotilla.cli.command;

import dev.flotilla.cli.client.FleetSchema.Unit;
import dev.flotilla.cli.output.Columns;
import dev.flotilla.cli.output.MachineLegend;
import dev.flotilla.cli.units.UnitSubmitter;
import dev.flotilla.scheduler.unit.UnitHash;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * fleetctl list-unit-files: every unit submitted, loaded or not: UNIT, HASH, DSTATE (desired),
 * STATE (current), TMACHINE (the machine it is scheduled to; "global" for global units).
 */
@Command(name = "list-unit-files", description = "List the units in the cluster, whether or not they are scheduled.")
public final class ListUnitFilesCommand extends ListCommand<Unit> {

  @Option(names = "--full", description = "Do not shorten hashes and machine IDs")
  boolean full;

  @Option(names = "--fields", paramLabel = "LIST", defaultValue = "unit,hash,dstate,state,tmachine",
      description = "Columns to print: unit, hash, dstate, state, tmachine (or target), global, desc "
          + "(default: ${DEFAULT-VALUE})")
  String fields;

  private MachineLegend legend;

  @Override
  List<Unit> rows() {
    return client().units();
  }

  @Override
  Columns<Unit> columns() {
    return new Columns<Unit>()
        .add("unit", (u, full) -> u.name())
        .add("hash", (u, full) -> {
          UnitHash h = UnitSubmitter.unitFile(u).hash();
          return full ? h.hex() : h.shortHex();
        })
        .add("dstate", (u, full) -> orDash(u.desiredState()))
        .add("state", (u, full) -> isGlobal(u) ? "-" : orDash(u.currentState()))
        .add("tmachine", this::target)
        .add("target", this::target)
        .add("global", (u, full) -> Boolean.toString(isGlobal(u)))
        .add("desc", (u, full) -> orDash(UnitSubmitter.unitFile(u).value("Unit", "Description").orElse("")));
  }

  private String target(Unit u, boolean full) {
    if (isGlobal(u)) {
      return "global";
    }
    if (!u.isScheduled()) {
      return "-";
    }
    if (legend == null) {
      legend = new MachineLegend(client().machines());
    }
    return legend.of(u.machineId(), full);
  }

  @Override
  String fieldsSpec() {
    return fields;
  }

  @Override
  boolean full() {
    return full;
  }
}
