package dev.flotilla.scheduler.unit;

/** A unit name systemd (or fleet's subset of unit types) would not accept. */
public final class InvalidUnitNameException extends IllegalArgumentException {

  private final String name;

  public InvalidUnitNameException(String name, String problem) {
    super("invalid unit name '" + name + "': " + problem);
    this.name = name;
  }

  public String name() {
    return name;
  }
}
