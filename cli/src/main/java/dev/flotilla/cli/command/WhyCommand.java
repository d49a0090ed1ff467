package dev.flotilla.cli.command;

import dev.flotilla.cli.client.FleetSchema.Unit;
import dev.flotilla.cli.output.JsonOutput;
import dev.flotilla.cli.output.MachineLegend;
import dev.flotilla.cli.units.UnitSelector;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * Flotilla's own: where each unit is placed, or why the engine could not place it (the reason it
 * records and the API shows as a unit's {@code unscheduledReason}).
 */
@Command(name = "why", description = {
    "Say where units are placed, or why the engine has not placed them.",
    "UNIT is a unit name or a glob over the units in the cluster."})
public final class WhyCommand extends ClusterCommand {

  @Parameters(arity = "1..*", paramLabel = "UNIT")
  List<String> units;

  private MachineLegend legend;

  @Override
  public Integer call() {
    List<Unit> selected = UnitSelector.select(units, selectable(units), true);
    if (json()) {
      JsonOutput.print(out(), selected);
    } else {
      for (Unit u : selected) {
        out().println(explain(u));
      }
    }
    out().flush();
    return 0;
  }

  private String explain(Unit u) {
    String name = u.name();
    if (UnitSelector.isTemplate(name)) {
      return name + " is a template: templates are never placed; start an instance such as " + name.replace("@.", "@1.");
    }
    if (isGlobal(u)) {
      return name + " is global: it runs on every machine matching its MachineMetadata (desired " + u.desired()
          + "); see 'fctl list-units'";
    }
    if (u.isScheduled()) {
      String where = name + " is placed on " + legend(u.machineId()) + " (desired " + u.desired() + ", current "
          + u.current() + ")";
      return u.desired().equals(u.current()) ? where
          : where + "; waiting for the agent there to report it " + u.desired();
    }
    if ("inactive".equals(u.desired())) {
      return name + " is not placed: its desired state is inactive; start it with 'fctl start " + name + "'";
    }
    if (u.unscheduledReason() != null && !u.unscheduledReason().isEmpty()) {
      return name + " is not placed: " + u.unscheduledReason();
    }
    return name + " is not placed yet and the engine has recorded no reason; it has not run since the unit changed "
        + "(is fleetd's engine running?)";
  }

  private String legend(String machineId) {
    if (legend == null) {
      legend = new MachineLegend(client().machines());
    }
    return legend.of(machineId, false);
  }
}
