package dev.flotilla.cli.command;

import dev.flotilla.cli.Fctl;
import dev.flotilla.cli.client.FleetClient;
import dev.flotilla.cli.client.FleetSchema.Unit;
import dev.flotilla.cli.output.OutputFormat;
import dev.flotilla.cli.units.UnitSubmitter;
import dev.flotilla.scheduler.fleet.XFleetOptions;
import dev.flotilla.scheduler.unit.UnitName;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** A command that talks to fleetd: the client, the streams and the global options of {@link Fctl}. */
abstract class ClusterCommand implements Callable<Integer> {

  @ParentCommand
  Fctl root;

  @Spec
  CommandSpec spec;

  FleetClient client() {
    return root.client();
  }

  PrintWriter out() {
    return root.out();
  }

  PrintWriter err() {
    return root.err();
  }

  boolean json() {
    return root.output() == OutputFormat.JSON;
  }

  static Map<String, Unit> byName(List<Unit> units) {
    Map<String, Unit> out = new LinkedHashMap<>();
    for (Unit u : units) {
      out.put(u.name(), u);
    }
    return out;
  }

  /** Whether a unit runs on every machine ([X-Fleet] Global=true); fleetctl never waits for those. */
  static boolean isGlobal(Unit u) {
    try {
      return XFleetOptions.runsGlobally(UnitName.parse(u.name()), UnitSubmitter.unitFile(u));
    } catch (IllegalArgumentException e) {
      return false; // a name or option fleetd let through but we cannot read: not ours to judge
    }
  }
}
