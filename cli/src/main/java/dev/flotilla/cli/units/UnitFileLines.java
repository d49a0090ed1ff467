package dev.flotilla.cli.units;

import java.util.ArrayList;
import java.util.List;

/**
 * Finds the line of a unit file that an [X-Fleet] problem is about. The scheduler's validation
 * works on parsed options, which no longer know their lines; its problems start with the option as
 * written ({@code Global=maybe: not a boolean}), or name it ({@code unknown option Foo= in
 * [X-Fleet]}, {@code MachineID cannot be combined with ...}). The last assignment wins in
 * systemd, so the last matching line is the one meant.
 */
final class UnitFileLines {
  private static final String SECTION = "X-Fleet";

  private record Assignment(int line, String key, String value) {}

  private final List<Assignment> xfleet = new ArrayList<>();

  UnitFileLines(String text) {
    String section = null;
    String[] lines = text.split("\r\n|\r|\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
        continue;
      }
      if (line.startsWith("[") && line.endsWith("]")) {
        section = line.substring(1, line.length() - 1);
        continue;
      }
      int eq = line.indexOf('=');
      if (SECTION.equals(section) && eq > 0) {
        xfleet.add(new Assignment(i + 1, line.substring(0, eq).strip(), line.substring(eq + 1).strip()));
      }
    }
  }

  /** The 1-based line {@code problem} is about, or 0 when it cannot be told. */
  int lineOf(String problem) {
    int found = 0;
    for (Assignment a : xfleet) {
      String written = a.key() + "=" + a.value();
      if (problem.startsWith(written + ":") || problem.startsWith(written + " ")
          || problem.contains("option " + a.key() + "=")) {
        found = a.line();
      }
    }
    if (found == 0) {
      for (Assignment a : xfleet) {
        if (problem.startsWith(a.key() + " ") || problem.startsWith(a.key() + "=")) {
          found = a.line();
        }
      }
    }
    return found;
  }
}
