package dev.flotilla.agent.runtime;

import java.util.Set;

/**
 * What a runtime learnt of its units' states without being asked (see {@link UnitRuntime#changes}).
 *
 * @param units units whose state may have changed since the last call: read them again
 * @param all the runtime may have missed changes (its feed started or was restarted with a gap):
 *     read every unit again
 * @param live the runtime follows changes now: a unit it does not name has not changed in a way
 *     it can see, so states need only a slow safety poll; when false, poll at the normal rate
 */
public record StateChanges(Set<String> units, boolean all, boolean live) {

  /** What a runtime that cannot follow changes says: nothing known, poll. */
  public static final StateChanges NOT_FOLLOWED = new StateChanges(Set.of(), false, false);

  /** What a runtime that follows changes says when none happened. */
  public static final StateChanges NONE = new StateChanges(Set.of(), false, true);

  public StateChanges {
    units = Set.copyOf(units);
  }

  public boolean isEmpty() {
    return units.isEmpty() && !all;
  }
}
