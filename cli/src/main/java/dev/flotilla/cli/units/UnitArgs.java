package dev.flotilla.cli.units;

import dev.flotilla.scheduler.unit.UnitType;

/**
 * How fleetctl reads a unit argument: the base name of a path, with ".service" added when it has
 * no unit type suffix ({@code fctl start web} means web.service, {@code units/db} means
 * units/db.service); a base name with {@code * ? [} is a glob over the units in the cluster.
 */
public final class UnitArgs {
  private UnitArgs() {}

  /** The unit name an argument stands for (fleetctl's {@code unitNameMangle}). */
  public static String unitName(String arg) {
    return withDefaultType(baseName(arg));
  }

  /** The argument with ".service" added when it has no known type suffix (a path stays a path). */
  public static String withDefaultType(String arg) {
    String trimmed = stripTrailingSlashes(arg);
    int slash = trimmed.lastIndexOf('/');
    int dot = trimmed.lastIndexOf('.');
    if (dot > slash && UnitType.fromSuffix(trimmed.substring(dot + 1)).isPresent()) {
      return trimmed;
    }
    return trimmed + ".service";
  }

  /** Whether the argument's base name is a glob (Go's path.Match syntax, as fleet's patterns). */
  public static boolean isGlob(String arg) {
    String base = baseName(arg);
    return base.indexOf('*') >= 0 || base.indexOf('?') >= 0 || base.indexOf('[') >= 0;
  }

  public static String baseName(String arg) {
    String trimmed = stripTrailingSlashes(arg);
    int slash = trimmed.lastIndexOf('/');
    return slash < 0 ? trimmed : trimmed.substring(slash + 1);
  }

  private static String stripTrailingSlashes(String s) {
    int end = s.length();
    while (end > 1 && s.charAt(end - 1) == '/') {
      end--;
    }
    return s.substring(0, end);
  }
}
