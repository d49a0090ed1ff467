package dev.flotilla.scheduler.unit;

/**
 * One assignment {@code Name=Value} in section {@code [Section]} of a unit file, as systemd reads
 * it: name and value with surrounding blanks removed, continuation lines already joined.
 *
 * <p>The constructor refuses what could not be written back and read again as the same option
 * (a line break in any part, a value that would read as a continuation, a name that would read as
 * a comment or a section header), so every {@code UnitOption} has exactly one canonical line.
 */
public record UnitOption(String section, String name, String value) {

  public UnitOption {
    if (section == null || section.isEmpty()) {
      throw new IllegalArgumentException("section name is empty");
    }
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("option name is empty in [" + section + "]");
    }
    if (value == null) {
      throw new IllegalArgumentException("value of " + name + " in [" + section + "] is null");
    }
    requireSingleLine("section name", section);
    requireSingleLine("option name " + name, name);
    requireSingleLine("value of " + name, value);
    if (!Blanks.strip(name).equals(name)) {
      throw new IllegalArgumentException("option name '" + name + "' has leading or trailing blanks");
    }
    if (name.indexOf('=') >= 0) {
      throw new IllegalArgumentException("option name '" + name + "' contains '='");
    }
    char first = name.charAt(0);
    if (first == '#' || first == ';' || first == '[') {
      throw new IllegalArgumentException(
          "option name '" + name + "' starts with '" + first + "', which reads as a comment or a section");
    }
    if (!Blanks.strip(value).equals(value)) {
      throw new IllegalArgumentException("value of " + name + " has leading or trailing blanks: '" + value + "'");
    }
    if (Blanks.endsWithOddBackslashes(value)) {
      throw new IllegalArgumentException("value of " + name + " ends with a single backslash, which systemd "
          + "reads as a line continuation; double it: '" + value + "\\'");
    }
  }

  // equals and hashCode written out: a record's own are one method handle tree for every record
  // (java.lang.runtime.ObjectMethods), which a fresh JVM runs in the interpreter and compiles only
  // after many calls; a unit file is a map key by its options (the [X-Fleet] reading is kept per
  // file), so a burst of 300 units hashed and compared ~600 options through it (~10 ms cold)

  @Override
  public boolean equals(Object o) {
    return o instanceof UnitOption other && section.equals(other.section) && name.equals(other.name)
        && value.equals(other.value);
  }

  @Override
  public int hashCode() {
    return (section.hashCode() * 31 + name.hashCode()) * 31 + value.hashCode();
  }

  /** The option as one line of a unit file, without the line break. */
  public String line() {
    return name + "=" + value;
  }

  private static void requireSingleLine(String what, String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\n' || c == '\r' || c == '\0') {
        throw new IllegalArgumentException(what + " contains a line break or NUL at offset " + i);
      }
    }
  }
}
