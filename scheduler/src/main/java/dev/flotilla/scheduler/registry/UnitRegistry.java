package dev.flotilla.scheduler.registry;

import java.util.List;
import java.util.Optional;

/**
 * Submitted units and their desired state. Implemented over the store (through the v3
 * {@code StoreClient}) by the registry; the API and the engine use only this interface.
 */
public interface UnitRegistry {

  Optional<Versioned<UnitRecord>> unit(String name);

  /** All units, by name. */
  List<Versioned<UnitRecord>> units();

  /**
   * Creates a unit the caller has validated ({@code XFleetOptions.parse}); false when a unit of
   * that name exists (fleet answers 409 then).
   */
  boolean create(UnitRecord unit);

  /**
   * Sets the desired state if the unit is still at {@code expectedModRevision}; false otherwise.
   * Callers move one neighbouring step at a time ({@link DesiredState#isNeighbour}).
   */
  boolean setDesiredState(String name, DesiredState state, long expectedModRevision);

  /** Removes the unit, its schedule entry and reported states; false when there was none. */
  boolean destroy(String name);
}
