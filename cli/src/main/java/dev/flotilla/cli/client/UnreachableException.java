package dev.flotilla.cli.client;

/** fleetd could not be reached at the endpoint, or did not answer in time. */
public final class UnreachableException extends FleetClientException {
  public UnreachableException(String message, Throwable cause) {
    super(message, cause);
  }
}
