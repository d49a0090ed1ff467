package dev.flotilla.cli.command;

import dev.flotilla.cli.client.FleetSchema.UnitState;
import dev.flotilla.cli.output.Columns;
import dev.flotilla.cli.output.MachineLegend;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * fleetctl list-units: the state of each unit on each machine that reports it (/fleet/v1/state):
 * UNIT, MACHINE, ACTIVE, SUB.
 */
@Command(name = "list-units", description = "List the state of the units loaded on machines, as their agents report it.")
public final class ListUnitsCommand extends ListCommand<UnitState> {

  @Option(names = {"-l", "--full"}, description = "Do not shorten machine IDs and hashes")
  boolean full;

  @Option(names = "--fields", paramLabel = "LIST", defaultValue = "unit,machine,active,sub",
      description = "Columns to print: unit, machine, load, active, sub, hash (default: ${DEFAULT-VALUE})")
  String fields;

  private MachineLegend legend;

  @Override
  List<UnitState> rows() {
    List<UnitState> states = new ArrayList<>(client().unitStates());
    states.sort(Comparator.comparing((UnitState s) -> s.name() == null ? "" : s.name())
        .thenComparing(s -> s.machineId() == null ? "" : s.machineId()));
    return states;
  }

  @Override
  Columns<UnitState> columns() {
    return new Columns<UnitState>()
        .add("unit", (s, full) -> orDash(s.name()))
        .add("machine", (s, full) -> s.machineId() == null || s.machineId().isEmpty() ? "-"
            : legend().of(s.machineId(), full))
        .add("load", (s, full) -> orDash(s.systemdLoadState()))
        .add("active", (s, full) -> orDash(s.systemdActiveState()))
        .add("sub", (s, full) -> orDash(s.systemdSubState()))
        .add("hash", (s, full) -> s.hash() == null || s.hash().isEmpty() ? "-"
            : full || s.hash().length() <= 7 ? s.hash() : s.hash().substring(0, 7));
  }

  private MachineLegend legend() {
    if (legend == null) {
      legend = new MachineLegend(client().machines());
    }
    return legend;
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
