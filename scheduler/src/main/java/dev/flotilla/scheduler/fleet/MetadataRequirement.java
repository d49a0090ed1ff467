package dev.flotilla.scheduler.fleet;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * What {@code MachineMetadata=} asks of a machine: for every key, the machine's value must be one
 * of the listed values. Different keys are ANDed, values of one key ORed, however the
 * {@code key=value} pairs were spread over lines (fleet's rule).
 */
public final class MetadataRequirement {

  public static final MetadataRequirement NONE = new MetadataRequirement(new TreeMap<>());

  private final SortedMap<String, SortedSet<String>> allowed;
  // matches() runs for every machine placement looks at: arrays and hash sets, not sorted maps
  private final String[] keys;
  private final List<Set<String>> values;

  public MetadataRequirement(Map<String, ? extends Set<String>> allowed) {
    SortedMap<String, SortedSet<String>> copy = new TreeMap<>();
    allowed.forEach((k, v) -> {
      if (v.isEmpty()) {
        throw new IllegalArgumentException("metadata key " + k + " allows no value");
      }
      copy.put(k, Collections.unmodifiableSortedSet(new TreeSet<>(v)));
    });
    this.allowed = Collections.unmodifiableSortedMap(copy);
    this.keys = copy.keySet().toArray(new String[0]);
    List<Set<String>> sets = new ArrayList<>(keys.length);
    for (String key : keys) {
      sets.add(new HashSet<>(copy.get(key)));
    }
    this.values = List.copyOf(sets);
  }

  /** From {@code key=value} pairs (key ANDed with other keys, values of one key ORed). */
  public static MetadataRequirement of(List<Map.Entry<String, String>> pairs) {
    SortedMap<String, SortedSet<String>> m = new TreeMap<>();
    for (Map.Entry<String, String> p : pairs) {
      m.computeIfAbsent(p.getKey(), k -> new TreeSet<>()).add(p.getValue());
    }
    return new MetadataRequirement(m);
  }

  /** key → the values allowed for it, sorted. */
  public SortedMap<String, SortedSet<String>> allowed() {
    return allowed;
  }

  public boolean isEmpty() {
    return keys.length == 0;
  }

  public boolean matches(Map<String, String> machineMetadata) {
    for (int i = 0; i < keys.length; i++) {
      String have = machineMetadata.get(keys[i]);
      if (have == null || !values.get(i).contains(have)) {
        return false;
      }
    }
    return true;
  }

  /** Whether a machine with this metadata satisfies the requirement on {@code key} alone. */
  public boolean matchesKey(String key, Map<String, String> machineMetadata) {
    String have = machineMetadata.get(key);
    return have != null && allowed.get(key).contains(have);
  }

  /** "region=us-east or region=us-west" for one key. */
  public String describe(String key) {
    return allowed.get(key).stream().map(v -> key + "=" + v).collect(Collectors.joining(" or "));
  }

  /** "disk=ssd and (region=us-east or region=us-west)". */
  public String describe() {
    List<String> parts = new ArrayList<>();
    for (String key : allowed.keySet()) {
      String d = describe(key);
      parts.add(allowed.get(key).size() > 1 && allowed.size() > 1 ? "(" + d + ")" : d);
    }
    return String.join(" and ", parts);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof MetadataRequirement other && allowed.equals(other.allowed);
  }

  @Override
  public int hashCode() {
    return allowed.hashCode();
  }

  @Override
  public String toString() {
    return describe();
  }
}
