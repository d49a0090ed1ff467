package dev.flotilla.scheduler.placement;

import dev.flotilla.scheduler.fleet.Resources;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A machine as placement sees it: its ID, the metadata its agent advertises (one value per key, as
 * in fleet), and the CPU and memory its agent offers to reserved units.
 */
public record Machine(String id, Map<String, String> metadata, Resources capacity) {

  public Machine {
    Objects.requireNonNull(id, "id");
    if (id.isEmpty()) {
      throw new IllegalArgumentException("machine ID is empty");
    }
    metadata = Collections.unmodifiableSortedMap(new TreeMap<>(metadata));
    Objects.requireNonNull(capacity, "capacity");
  }
}
