package dev.flotilla.scheduler.fleet;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The options of the {@code [X-Fleet]} section, with the deprecated spellings fleet still accepted
 * (job/job.go: the {@code X-} and {@code X-Condition} prefixes of fleet ≤ 0.8; there are none for
 * Global and Replaces). The last two are ours.
 */
public enum XFleetKey {
  MACHINE_ID("MachineID", "X-ConditionMachineID", "X-ConditionMachineBootID"),
  MACHINE_OF("MachineOf", "X-ConditionMachineOf"),
  MACHINE_METADATA("MachineMetadata", "X-ConditionMachineMetadata"),
  CONFLICTS("Conflicts", "X-Conflicts"),
  GLOBAL("Global"),
  REPLACES("Replaces"),
  MEMORY_RESERVATION("MemoryReservation"),
  CPU_RESERVATION("CPUReservation");

  public static final String SECTION = "X-Fleet";

  private final String key;
  private final List<String> deprecatedAliases;

  XFleetKey(String key, String... deprecatedAliases) {
    this.key = key;
    this.deprecatedAliases = List.of(deprecatedAliases);
  }

  /** The current name, e.g. {@code MachineOf}. */
  public String key() {
    return key;
  }

  public List<String> deprecatedAliases() {
    return deprecatedAliases;
  }

  /** The option a name in [X-Fleet] stands for (case-sensitive, as in systemd). */
  public static Optional<XFleetKey> lookup(String name) {
    return Optional.ofNullable(BY_NAME.get(name));
  }

  /** Every spelling (current and deprecated) to its option. */
  private static final Map<String, XFleetKey> BY_NAME = byName();

  private static Map<String, XFleetKey> byName() {
    Map<String, XFleetKey> m = new HashMap<>();
    for (XFleetKey k : values()) {
      m.put(k.key, k);
      k.deprecatedAliases.forEach(a -> m.put(a, k));
    }
    return Map.copyOf(m);
  }

  /** "MachineID, MachineOf, ..." for messages. */
  public static String keyList() {
    return Arrays.stream(values()).map(XFleetKey::key).collect(Collectors.joining(", "));
  }
}
