package dev.flotilla.cli.command;

import dev.flotilla.cli.FctlException;
import dev.flotilla.cli.client.ApiErrorException;
import dev.flotilla.cli.client.FleetClientException;
import dev.flotilla.cli.client.FleetSchema.JournalPage;
import dev.flotilla.cli.client.FleetSchema.Unit;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/**
 * fleetctl journal: the last lines of a unit's output from the machine it runs on and, with
 * {@code -f}, what it writes next. fleetctl ran {@code journalctl -f} over SSH; here fctl polls the
 * machine's API with the cursor of the last page (every half second while there is nothing new),
 * so every line is printed once, until it is interrupted (Ctrl-C) or its output is closed.
 */
@Command(name = "journal", description = "Print the journal of a unit from the machine it runs on.")
public final class JournalCommand extends ClusterCommand {
  /** The most lines fleetd hands out at once. */
  static final int MAX_LINES = 10_000;

  private int lines;

  @Option(names = "--lines", paramLabel = "N", defaultValue = "10",
      description = "Number of recent lines to print (default: ${DEFAULT-VALUE})")
  void lines(int n) {
    if (n < 0 || n > MAX_LINES) {
      throw new ParameterException(spec.commandLine(), "--lines must be between 0 and " + MAX_LINES + ", got " + n);
    }
    lines = n;
  }

  @Option(names = {"-f", "--follow"}, description = "Keep printing new lines as the unit writes them")
  boolean follow;

  @Option(names = "--machine", paramLabel = "ID",
      description = "The machine to read from (an ID or a prefix of one), for a global unit running on several")
  String machine;

  @Parameters(arity = "1", paramLabel = "UNIT")
  String unit;

  @Override
  public Integer call() {
    Unit u = existingUnit(unit);
    String name = u.name();
    requirePlaced(u);
    String machineId = machineId(machine);
    JournalPage page;
    try {
      page = client().journal(name, machineId, lines);
    } catch (ApiErrorException e) {
      throw fromHost("journal", name, e);
    }
    print(page);
    if (!follow) {
      return 0;
    }
    if (page.cursor() == null) {
      throw new FctlException("cannot follow the journal of " + name + ": machine " + page.machineId()
          + " could not read it (see the line above); run without -f");
    }
    // the cursor is a position in that machine's log: keep asking the same machine
    String from = page.machineId();
    String cursor = page.cursor();
    while (true) {
      if (page.lineList().isEmpty()) {
        LockSupport.parkNanos(StateWaiter.POLL.toNanos());
      }
      if (Thread.currentThread().isInterrupted() || root.outputClosed()) {
        return 0;
      }
      try {
        page = client().journalAfter(name, from, cursor);
      } catch (ApiErrorException e) {
        throw fromHost("journal", name, e);
      } catch (FleetClientException e) {
        if (Thread.currentThread().isInterrupted()) {
          return 0; // interrupted in the middle of a request: the way a follower ends
        }
        throw e;
      }
      print(page);
      cursor = page.cursor();
    }
  }

  private void print(JournalPage page) {
    for (String line : page.lineList()) {
      out().println(line);
    }
    out().flush();
  }
}
