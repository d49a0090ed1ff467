package dev.flotilla.cli.client;

/**
 * One HTTP exchange with fleetd at a time: a method, a path with its query, a JSON body or none.
 * Throws {@link UnreachableException} when no answer came (naming the endpoint).
 */
public interface FleetHttp extends AutoCloseable {

  /** A status and the body, as read. */
  record Response(int status, byte[] body) {}

  Response send(String method, String pathAndQuery, byte[] jsonBody);

  @Override
  void close();
}
