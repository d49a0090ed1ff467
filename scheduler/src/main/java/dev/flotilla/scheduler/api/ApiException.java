package dev.flotilla.scheduler.api;

/** A request the API refuses: the HTTP status and the message of fleet's error body. */
final class ApiException extends RuntimeException {
  final int status;

  ApiException(int status, String message) {
    super(message);
    this.status = status;
  }
}
