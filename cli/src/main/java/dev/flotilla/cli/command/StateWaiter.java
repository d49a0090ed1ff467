package dev.flotilla.cli.command;

import dev.flotilla.cli.client.FleetClient;
import dev.flotilla.cli.client.FleetSchema.Unit;
import dev.flotilla.cli.output.MachineLegend;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * fleetctl's blocking: polls the units every half second until each one's current state (fleetd
 * derives it from what the agent on its machine reports in /fleet/v1/state: launched once active
 * there, loaded once reported, inactive once unscheduled) is the one asked for, then prints
 * "Unit NAME STATE on MACHINE" as fleetctl does. While it waits, a line on stderr says what the
 * unit waits for, whenever that changes: placement (with the engine's reason when it has one) or
 * its agent.
 */
final class StateWaiter {
  static final Duration POLL = Duration.ofMillis(500);

  private final FleetClient client;
  private final PrintWriter out;
  private final PrintWriter err;
  private MachineLegend legend;

  StateWaiter(FleetClient client, PrintWriter out, PrintWriter err) {
    this.client = client;
    this.out = out;
    this.err = err;
  }

  /**
   * Waits for every unit in {@code names} to be {@code target}; {@code attempts} 0 means without
   * limit. Returns false when one timed out or disappeared (each said on stderr).
   */
  boolean await(List<String> names, String target, int attempts) {
    List<String> pending = new ArrayList<>(names);
    Map<String, String> said = new HashMap<>();
    boolean ok = true;
    for (int round = 1; !pending.isEmpty(); round++) {
      Map<String, Unit> units = client.unitsNamed(pending);
      for (Iterator<String> it = pending.iterator(); it.hasNext(); ) {
        String name = it.next();
        Unit u = units.get(name);
        if (u == null) {
          err.println("fctl: unit " + name + " was destroyed while fctl waited for it to be " + target);
          ok = false;
          it.remove();
        } else if (target.equals(u.current())) {
          out.println("Unit " + name + " " + u.current() + (u.isScheduled() ? " on " + legend(u.machineId()) : ""));
          it.remove();
        } else {
          String progress = progress(u, target);
          if (!progress.equals(said.put(name, progress))) {
            err.println(progress);
          }
        }
      }
      out.flush();
      err.flush();
      if (!pending.isEmpty() && attempts > 0 && round >= attempts) {
        for (String name : pending) {
          Unit u = units.get(name);
          err.println("fctl: timed out waiting for unit " + name + " to be " + target + " after " + attempts
              + " attempt" + (attempts == 1 ? "" : "s") + " (it is " + u.current() + "); see 'fctl why " + name + "'");
        }
        return false;
      }
      if (!pending.isEmpty()) {
        LockSupport.parkNanos(POLL.toNanos());
        if (Thread.interrupted()) {
          Thread.currentThread().interrupt();
          err.println("fctl: interrupted while waiting for " + String.join(", ", pending));
          return false;
        }
      }
    }
    return ok;
  }

  private String progress(Unit u, String target) {
    if (!u.isScheduled()) {
      if (u.unscheduledReason() != null && !u.unscheduledReason().isEmpty()) {
        return "Unit " + u.name() + " is not placed yet: " + u.unscheduledReason();
      }
      return "Unit " + u.name() + " is waiting for the engine to place it";
    }
    return "Unit " + u.name() + " is on " + legend(u.machineId()) + ", " + u.current() + "; waiting for it to be "
        + target;
  }

  private String legend(String machineId) {
    if (legend == null) {
      legend = new MachineLegend(client.machines());
    }
    return legend.of(machineId, false);
  }
}
