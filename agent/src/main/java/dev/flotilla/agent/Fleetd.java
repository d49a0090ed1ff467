package dev.flotilla.agent;

/**
 * {@code bin/fleetd}, the host agent. It arrives with the agent issue; until then the launcher
 * says so plainly instead of pretending to run.
 */
public final class Fleetd {
  private Fleetd() {}

  public static void main(String[] args) {
    System.err.println("fleetd: not implemented yet: the host agent lands with the agent issue; "
        + "the store is bin/kvd");
    System.exit(2);
  }
}
