package dev.flotilla.scheduler.unit;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The unit types fleet schedules (a subset of systemd's: no target, swap, slice, scope).
 * Only service, socket, timer and path units may be templates; systemd refuses templated mount,
 * automount and device units ({@code unit_type_may_template}).
 */
public enum UnitType {
  SERVICE("service", true),
  SOCKET("socket", true),
  TIMER("timer", true),
  PATH("path", true),
  MOUNT("mount", false),
  AUTOMOUNT("automount", false),
  DEVICE("device", false);

  private final String suffix;
  private final boolean mayTemplate;

  UnitType(String suffix, boolean mayTemplate) {
    this.suffix = suffix;
    this.mayTemplate = mayTemplate;
  }

  /** The suffix without the dot, e.g. {@code service}. */
  public String suffix() {
    return suffix;
  }

  public boolean mayTemplate() {
    return mayTemplate;
  }

  public static Optional<UnitType> fromSuffix(String suffix) {
    for (UnitType t : values()) {
      if (t.suffix.equals(suffix)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }

  /** "service, socket, ..." for messages. */
  public static String suffixList() {
    return Arrays.stream(values()).map(UnitType::suffix).collect(Collectors.joining(", "));
  }
}
