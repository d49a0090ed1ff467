package dev.flotilla.cli.command;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** fleetctl's {@code --no-block} and {@code --block-attempts} for start, stop, load and unload. */
public final class BlockOptions {

  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  @Option(names = "--no-block", description = "Do not wait until the units reach the state asked for")
  boolean noBlock;

  int blockAttempts;

  @Option(names = "--block-attempts", paramLabel = "N", defaultValue = "0",
      description = "Check the units' state at most N times, 0.5 s apart, before giving up; 0 waits without limit "
          + "(default: 0)")
  void blockAttempts(int n) {
    if (n < 0) {
      throw new ParameterException(spec.commandLine(), "--block-attempts must be 0 (no limit) or more, got " + n);
    }
    blockAttempts = n;
  }
}
