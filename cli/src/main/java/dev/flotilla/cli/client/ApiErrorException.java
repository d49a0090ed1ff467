package dev.flotilla.cli.client;

/** fleetd answered with an error: its HTTP status and the message of fleet's error body. */
public final class ApiErrorException extends FleetClientException {
  private final int status;
  private final String apiMessage;

  public ApiErrorException(String request, int status, String apiMessage) {
    super("fleetd refused " + request + ": " + (apiMessage.isEmpty() ? "(no message)" : apiMessage)
        + " (HTTP " + status + ")");
    this.status = status;
    this.apiMessage = apiMessage;
  }

  public int status() {
    return status;
  }

  /** The message from fleet's error body ({@code {"error":{"code":..,"message":..}}}). */
  public String apiMessage() {
    return apiMessage;
  }
}
