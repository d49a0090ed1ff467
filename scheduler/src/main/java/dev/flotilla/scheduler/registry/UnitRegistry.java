package dev.flotilla.scheduler.registry;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Submitted units and their desired state. Implemented over the store (through the v3
 * {@code StoreClient}) by the registry; the API and the engine use only this interface.
 */
public interface UnitRegistry {

  Optional<Versioned<UnitRecord>> unit(String name);

  /** The units of {@code names} that exist (a store reads them in batches, not one request each). */
  default Map<String, Versioned<UnitRecord>> units(Collection<String> names) {
    Map<String, Versioned<UnitRecord>> out = new TreeMap<>();
    for (String n : names) {
      unit(n).ifPresent(v -> out.put(n, v));
    }
    return out;
  }

  /** All units, by name. */
  List<Versioned<UnitRecord>> units();

  /**
   * All units, with the store revision they were read at: a watch from after it brings every
   * later change, and nothing the listing already holds. {@code revision} 0 when the registry
   * cannot say.
   */
  record Listing(List<Versioned<UnitRecord>> units, long revision) {}

  default Listing listing() {
    return new Listing(units(), 0);
  }

  /**
   * Creates a unit the caller has validated ({@code XFleetOptions.parse}); false when a unit of
   * that name exists (fleet answers 409 then).
   */
  boolean create(UnitRecord unit);

  /**
   * {@link #create} for each unit, in order (a store creates many per transaction); true for each
   * one created, false for each whose name was taken.
   */
  default List<Boolean> createAll(List<UnitRecord> units) {
    List<Boolean> out = new java.util.ArrayList<>(units.size());
    for (UnitRecord u : units) {
      out.add(create(u));
    }
    return out;
  }

  /**
   * Sets the desired state if the unit is still at {@code expectedModRevision}; false otherwise.
   * Callers move one neighbouring step at a time ({@link DesiredState#isNeighbour}).
   */
  boolean setDesiredState(String name, DesiredState state, long expectedModRevision);

  /** Removes the unit, its schedule entry and reported states; false when there was none. */
  boolean destroy(String name);
}
