package dev.flotilla.cli.client;

/** A request to fleetd that failed; the message is for the operator, whole, one line. */
public class FleetClientException extends RuntimeException {
  public FleetClientException(String message) {
    super(message);
  }

  public FleetClientException(String message, Throwable cause) {
    super(message, cause);
  }
}
