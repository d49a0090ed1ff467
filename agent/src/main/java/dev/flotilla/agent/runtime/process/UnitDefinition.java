package dev.flotilla.agent.runtime.process;

import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitName;
import dev.flotilla.scheduler.unit.UnitType;

/**
 * A loaded unit file: for a service, its settings ({@code spec}); for other unit types nothing to
 * run. A file that does not parse, or whose settings are invalid, is still loaded (as systemd
 * does), with load state {@code error} and the reason, which a start then reports.
 */
record UnitDefinition(UnitName name, ServiceSpec spec, String loadError) {

  static UnitDefinition of(UnitName name, String text) {
    UnitFile file;
    try {
      file = UnitFile.parse(text);
    } catch (IllegalArgumentException e) {
      return new UnitDefinition(name, null, "bad unit file: " + e.getMessage());
    }
    if (name.type() != UnitType.SERVICE) {
      return new UnitDefinition(name, null, null);
    }
    try {
      return new UnitDefinition(name, ServiceSpec.parse(name, file), null);
    } catch (IllegalArgumentException e) {
      return new UnitDefinition(name, null, e.getMessage());
    }
  }

  String loadState() {
    return loadError == null ? "loaded" : "error";
  }
}
