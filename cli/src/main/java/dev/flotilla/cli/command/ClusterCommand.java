package dev.flotilla.cli.command;

import dev.flotilla.cli.Fctl;
import dev.flotilla.cli.FctlException;
import dev.flotilla.cli.client.ApiErrorException;
import dev.flotilla.cli.client.FleetSchema.Machine;
import dev.flotilla.cli.client.FleetClient;
import dev.flotilla.cli.client.FleetSchema.Unit;
import dev.flotilla.cli.output.OutputFormat;
import dev.flotilla.cli.units.UnitArgs;
import dev.flotilla.cli.units.UnitSelector;
import dev.flotilla.cli.units.UnitSubmitter;
import dev.flotilla.scheduler.fleet.XFleetOptions;
import dev.flotilla.scheduler.unit.UnitName;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
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

  /** The unit an argument names, as the cluster has it; a one-line error when there is none. */
  Unit existingUnit(String arg) {
    String name = UnitArgs.unitName(arg);
    return client().unit(name).orElseThrow(() -> new FctlException("unit " + name
        + " does not exist; see the units with 'fctl list-unit-files'"));
  }

  /**
   * The units {@code args} may select ({@link UnitSelector}): every unit when one argument is a
   * glob, else only those the arguments name ({@link FleetClient#unitsNamed}: a few requests, not
   * the whole listing of a big cluster).
   */
  List<Unit> selectable(List<String> args) {
    if (args.stream().anyMatch(UnitArgs::isGlob)) {
      return client().units();
    }
    return new ArrayList<>(client().unitsNamed(args.stream().map(UnitArgs::unitName).toList()).values());
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

  /**
   * For status and journal: the unit must be placed on a machine (or be global, which the
   * machine's API resolves); fleetctl refused inactive units the same way.
   */
  static void requirePlaced(Unit u) {
    if (!u.isScheduled() && !isGlobal(u)) {
      throw new FctlException("unit " + u.name() + " is not running on any machine (desired " + u.desired()
          + ", current " + u.current() + "); see 'fctl why " + u.name() + "'");
    }
  }

  /** A --machine value: a machine ID or a prefix of one (as list-machines shows them); null stays null. */
  String machineId(String given) {
    if (given == null) {
      return null;
    }
    String prefix = given.replaceAll("\\.+$", ""); // list-machines prints "113f16a7..."
    List<String> matches = new ArrayList<>();
    for (Machine m : client().machines()) {
      if (m.id().equals(given)) {
        return given;
      }
      if (!prefix.isEmpty() && m.id().startsWith(prefix)) {
        matches.add(m.id());
      }
    }
    if (matches.size() == 1) {
      return matches.get(0);
    }
    if (matches.isEmpty()) {
      throw new FctlException("no machine with ID '" + given + "' in the cluster; see 'fctl list-machines'");
    }
    throw new FctlException("machine ID '" + given + "' matches " + matches.size() + " machines ("
        + String.join(", ", matches) + "); give more of it");
  }

  /** A refusal from a unit's machine (or the API forwarding to it), as one line naming the unit. */
  static FctlException fromHost(String what, String unit, ApiErrorException e) {
    String why = e.apiMessage().isEmpty() ? e.getMessage() : e.apiMessage();
    return new FctlException("cannot read the " + what + " of " + unit + ": " + why, e);
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
