package dev.flotilla.cli.command;

import dev.flotilla.cli.client.FleetSchema.Unit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Mixin;

/**
 * start, load, stop and unload: set the desired state of units and, unless {@code --no-block},
 * wait for them to reach it (fleetctl never waits for global units: they have no one machine).
 */
abstract class StateChangeCommand extends ClusterCommand {

  @Mixin
  BlockOptions block;

  /**
   * Moves {@code names} (all present in the cluster) to {@code target}; {@code verb} is fleetctl's
   * word for the messages (start, load, stop, unload). Returns the exit status.
   */
  int moveTo(List<String> names, String target, String verb) {
    Map<String, Unit> units = byName(client().units());
    List<String> wait = new ArrayList<>();
    for (String name : names) {
      Unit u = units.get(name);
      if (u == null) {
        err().println("fctl: unit " + name + " disappeared before it could be " + target + " (destroyed meanwhile?)");
        return 1;
      }
      boolean triggered = !target.equals(u.desired());
      if (triggered) {
        client().setDesiredState(name, target);
      }
      if (isGlobal(u)) {
        if (triggered) {
          out().println("Triggered global unit " + name + " " + verb);
        }
      } else if (block.noBlock) {
        if (triggered) {
          out().println("Triggered unit " + name + " " + verb);
        }
      } else if (triggered || !target.equals(u.current())) {
        wait.add(name);
      }
    }
    out().flush();
    if (wait.isEmpty()) {
      return 0;
    }
    return new StateWaiter(client(), out(), err()).await(wait, target, block.blockAttempts) ? 0 : 1;
  }
}
