package dev.flotilla.cli;

/**
 * {@code bin/fctl}, the operator CLI. It arrives with the fctl issue; until then the launcher
 * says so plainly instead of pretending to run.
 */
public final class Fctl {
  private Fctl() {}

  public static void main(String[] args) {
    System.err.println("fctl: not implemented yet: the operator CLI lands with the fctl issue");
    System.exit(2);
  }
}
