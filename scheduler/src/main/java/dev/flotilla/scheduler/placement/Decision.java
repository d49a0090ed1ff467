package dev.flotilla.scheduler.placement;

import java.util.List;
import java.util.Objects;

/** The outcome of placing one non-global unit. */
public sealed interface Decision permits Decision.Place, Decision.Unschedulable {

  String unit();

  /**
   * Run {@code unit} on {@code machineId}. {@code displaced} are units on that machine the unit
   * {@code Replaces=}: they must be unscheduled and placed again elsewhere (and their
   * {@code MachineOf=} followers with them).
   */
  record Place(String unit, String machineId, List<String> displaced) implements Decision {
    public Place {
      Objects.requireNonNull(unit);
      Objects.requireNonNull(machineId);
      displaced = List.copyOf(displaced);
    }
  }

  /** The unit stays unscheduled; {@code message} is what the CLI shows. */
  record Unschedulable(String unit, Reason reason, String message) implements Decision {
    public Unschedulable {
      Objects.requireNonNull(unit);
      Objects.requireNonNull(reason);
      Objects.requireNonNull(message);
    }
  }
}
