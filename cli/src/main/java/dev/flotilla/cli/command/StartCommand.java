package dev.flotilla.cli.command;

import dev.flotilla.cli.units.UnitSelector;
import dev.flotilla.cli.units.UnitSubmitter;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** fleetctl start: submits what is not in the cluster yet, then launches and waits. */
@Command(name = "start", description = {
    "Start units in the cluster, submitting unit files and creating instances of templates first if needed.",
    "UNIT is a unit name, a unit file's path, an instance of a submitted or local template (web@1.service),",
    "or a glob over the units in the cluster ('web@*')."})
public final class StartCommand extends StateChangeCommand {

  @Parameters(arity = "1..*", paramLabel = "UNIT")
  List<String> units;

  @Override
  public Integer call() {
    UnitSubmitter submitter = new UnitSubmitter(client(), out(), err());
    List<String> names = submitter.ensureSubmitted(units, "launched");
    return moveTo(activatable(names, err(), "started"), "launched", "start", submitter.createdWithDesiredState());
  }

  /** Templates are submitted but never scheduled: said on stderr and left out. */
  static List<String> activatable(List<String> names, PrintWriter err, String participle) {
    List<String> out = new ArrayList<>();
    for (String name : names) {
      if (UnitSelector.isTemplate(name)) {
        err.println("Unit " + name + " is a template: submitted, not " + participle + "; "
            + "start an instance such as " + name.replace("@.", "@1."));
      } else {
        out.add(name);
      }
    }
    return out;
  }
}
