package dev.flotilla.cli.command;

import dev.flotilla.cli.client.FleetSchema.Unit;
import dev.flotilla.cli.units.UnitSelector;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** fleetctl unload: units back to inactive (unscheduled; still submitted). */
@Command(name = "unload", description = {
    "Unschedule units: stop them and unload them from their machines; they stay submitted.",
    "UNIT is a unit name or a glob over the units in the cluster."})
public final class UnloadCommand extends StateChangeCommand {

  @Parameters(arity = "1..*", paramLabel = "UNIT")
  List<String> units;

  @Override
  public Integer call() {
    List<Unit> selected = UnitSelector.select(units, selectable(units), false);
    return moveTo(selected.stream().map(Unit::name).toList(), "inactive", "unload");
  }
}
