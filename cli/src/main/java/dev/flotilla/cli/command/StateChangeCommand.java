package dev.flotilla.cli.command;

import dev.flotilla.cli.client.Concurrently;
import dev.flotilla.cli.client.FleetClient;
import dev.flotilla.cli.client.FleetSchema.Unit;
import java.util.ArrayList;
import java.util.HashMap;
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
    return moveTo(names, target, verb, Map.of());
  }

  /**
   * {@link #moveTo(List, String, String)} where the units of {@code createdAtTarget} were just
   * created at {@code target} by this command: they count as triggered, with no request of their
   * own, and when all of them were, the units are not listed again.
   */
  int moveTo(List<String> names, String target, String verb, Map<String, Unit> createdAtTarget) {
    Map<String, Unit> units = createdAtTarget.keySet().containsAll(names) ? createdAtTarget : client().unitsNamed(names);
    for (String name : names) {
      if (!units.containsKey(name)) {
        err().println("fctl: unit " + name + " disappeared before it could be " + target + " (destroyed meanwhile?)");
        return 1;
      }
    }
    List<Unit> triggered = names.stream().map(units::get)
        .filter(u -> !target.equals(u.desired()) && !createdAtTarget.containsKey(u.name())).toList();
    List<RuntimeException> failures = client().putEach(
        triggered.stream().map(u -> FleetClient.stateChange(u.name(), target)).toList(), 204);
    Map<String, Integer> triggeredAt = new HashMap<>();
    for (int i = 0; i < triggered.size(); i++) {
      triggeredAt.put(triggered.get(i).name(), i);
    }
    List<String> wait = new ArrayList<>();
    for (String name : names) {
      Unit u = units.get(name);
      int t = triggeredAt.getOrDefault(name, -1);
      if (t >= 0 && failures.get(t) != null) {
        continue;
      }
      if (createdAtTarget.containsKey(name)) {
        t = Integer.MAX_VALUE; // triggered by its creation
      }
      if (isGlobal(u)) {
        if (t >= 0) {
          out().println("Triggered global unit " + name + " " + verb);
        }
      } else if (block.noBlock) {
        if (t >= 0) {
          out().println("Triggered unit " + name + " " + verb);
        }
      } else if (t >= 0 || !target.equals(u.current())) {
        wait.add(name);
      }
    }
    out().flush();
    Concurrently.throwFirst(failures);
    if (wait.isEmpty()) {
      return 0;
    }
    return new StateWaiter(client(), out(), err()).await(wait, target, block.blockAttempts) ? 0 : 1;
  }
}
