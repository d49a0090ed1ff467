package dev.flotilla.scheduler.fleet;

import java.util.List;

/** A unit refused at submit, with every problem found (each names the option it is about). */
public final class InvalidUnitException extends IllegalArgumentException {

  private final String unit;
  private final List<String> problems;

  public InvalidUnitException(String unit, List<String> problems) {
    super(unit + ": " + String.join("; ", problems));
    this.unit = unit;
    this.problems = List.copyOf(problems);
  }

  public String unit() {
    return unit;
  }

  public List<String> problems() {
    return problems;
  }
}
