package dev.flotilla.cli.units;

import dev.flotilla.cli.FctlException;
import dev.flotilla.scheduler.fleet.InvalidUnitException;
import dev.flotilla.scheduler.fleet.XFleetOptions;
import dev.flotilla.scheduler.unit.InvalidUnitNameException;
import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitFileSyntaxException;
import dev.flotilla.scheduler.unit.UnitName;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A unit file read from disk and checked the way fleetd will check it (syntax, unit name,
 * [X-Fleet]) before anything is sent, so that a mistake is reported with its line number.
 */
public record LocalUnitFile(Path path, String text, UnitFile file) {

  /** Reads and parses {@code path}; throws {@link FctlException} naming the file and line. */
  public static LocalUnitFile read(Path path) {
    String text;
    try {
      text = Files.readString(path);
    } catch (CharacterCodingException e) {
      throw new FctlException("cannot read unit file " + path + ": it is not UTF-8 text");
    } catch (IOException e) {
      throw new FctlException("cannot read unit file " + path + ": " + e.getMessage());
    }
    UnitFile file;
    try {
      file = UnitFile.parse(text);
    } catch (UnitFileSyntaxException e) {
      throw new FctlException("invalid unit file " + path + ": line " + e.line() + ": " + e.problem()
          + "; fix the file and try again");
    }
    if (file.options().isEmpty()) {
      throw new FctlException("invalid unit file " + path + ": it has no options; a unit needs at least "
          + "[Service] with ExecStart=");
    }
    return new LocalUnitFile(path, text, file);
  }

  /**
   * Checks {@code file} as unit {@code name} ([X-Fleet] in full, as fleetd does at submit) and
   * returns the warnings (deprecated spellings). {@code local} (may be null) gives line numbers;
   * {@code source} says where the options came from, for messages.
   */
  public static List<String> validate(String name, UnitFile file, LocalUnitFile local, String source) {
    UnitName unitName;
    try {
      unitName = UnitName.parse(name);
    } catch (InvalidUnitNameException e) {
      throw new FctlException(e.getMessage());
    }
    try {
      return XFleetOptions.parse(unitName, file).warnings();
    } catch (InvalidUnitException e) {
      UnitFileLines lines = local == null ? null : new UnitFileLines(local.text());
      List<String> problems = new ArrayList<>();
      for (String p : e.problems()) {
        int line = lines == null ? 0 : lines.lineOf(p);
        problems.add(line > 0 ? "line " + line + ": " + p : p);
      }
      throw new FctlException("invalid unit " + name + " (" + source + "): " + String.join("; ", problems)
          + "; fix [X-Fleet] and try again");
    }
  }
}
