package dev.flotilla.scheduler.unit;

/** A unit file that systemd would not read, with the (1-based) line where the problem starts. */
public final class UnitFileSyntaxException extends IllegalArgumentException {

  private final int line;
  private final String problem;

  public UnitFileSyntaxException(int line, String problem) {
    super("line " + line + ": " + problem);
    this.line = line;
    this.problem = problem;
  }

  /** 1-based number of the physical line where the offending (possibly continued) line starts. */
  public int line() {
    return line;
  }

  /** The message without the line number. */
  public String problem() {
    return problem;
  }
}
