package dev.flotilla.cli.command;

import dev.flotilla.cli.client.Concurrently;
import dev.flotilla.cli.client.FleetSchema.Unit;
import dev.flotilla.cli.units.UnitSelector;
import java.util.List;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** fleetctl destroy: removes units from the cluster (stopped and unloaded wherever they run). */
@Command(name = "destroy", description = {
    "Remove units from the cluster; they stop wherever they run and must be submitted again to start.",
    "UNIT is a unit name or a glob over the units in the cluster (templates included)."})
public final class DestroyCommand extends ClusterCommand {

  @Parameters(arity = "1..*", paramLabel = "UNIT")
  List<String> units;

  @Override
  public Integer call() {
    List<Unit> selected = UnitSelector.select(units, selectable(units), true);
    boolean[] destroyed = new boolean[selected.size()];
    List<Integer> at = IntStream.range(0, selected.size()).boxed().toList();
    List<RuntimeException> failures = Concurrently.attempt(at,
        i -> destroyed[i] = client().destroyUnit(selected.get(i).name()));
    for (int i = 0; i < selected.size(); i++) {
      if (failures.get(i) != null) {
        continue;
      }
      if (destroyed[i]) {
        out().println("Destroyed " + selected.get(i).name());
      } else {
        err().println("Unit " + selected.get(i).name() + " was already destroyed");
      }
    }
    out().flush();
    Concurrently.throwFirst(failures);
    return 0;
  }
}
