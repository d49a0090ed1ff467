package dev.flotilla.cli.command;

import dev.flotilla.cli.units.UnitSubmitter;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** fleetctl submit: uploads unit files without scheduling them; units already there are kept. */
@Command(name = "submit", description = {
    "Upload units to the cluster without starting them. A unit already in the cluster is left as it is",
    "(a warning says when the local file differs). UNIT is a unit file's path, or an instance of a",
    "submitted or local template."})
public final class SubmitCommand extends ClusterCommand {

  @Parameters(arity = "1..*", paramLabel = "UNIT")
  List<String> units;

  @Override
  public Integer call() {
    new UnitSubmitter(client(), out(), err()).ensureSubmitted(units);
    return 0;
  }
}
