package dev.flotilla.cli.command;

import dev.flotilla.cli.FctlVersion;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** fleetctl version: this fctl's version; fleetd is not asked. */
@Command(name = "version", description = "Print fctl's version.")
public final class VersionCommand implements Callable<Integer> {

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().getOut().println("fctl version " + FctlVersion.version());
    spec.commandLine().getOut().flush();
    return 0;
  }
}
