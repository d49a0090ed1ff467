package dev.flotilla.cli.command;

import dev.flotilla.cli.units.UnitSubmitter;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** fleetctl load: submits what is not in the cluster yet, then schedules without starting. */
@Command(name = "load", description = {
    "Schedule units in the cluster (loaded into systemd, not started), submitting them first if needed.",
    "UNIT is as for start."})
public final class LoadCommand extends StateChangeCommand {

  @Parameters(arity = "1..*", paramLabel = "UNIT")
  List<String> units;

  @Override
  public Integer call() {
    UnitSubmitter submitter = new UnitSubmitter(client(), out(), err());
    List<String> names = submitter.ensureSubmitted(units, "loaded");
    return moveTo(StartCommand.activatable(names, err(), "loaded"), "loaded", "load",
        submitter.createdWithDesiredState());
  }
}
