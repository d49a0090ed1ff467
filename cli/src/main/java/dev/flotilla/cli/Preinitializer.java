package dev.flotilla.cli;

import dev.flotilla.cli.client.FleetClient;
import dev.flotilla.cli.client.NettyFleetHttp;

/**
 * Set-up every command that talks to fleetd does, whatever its line says, done on a daemon thread
 * while the main thread builds picocli's model of the command and parses the line (~80 ms of a
 * command's start), as Spring Boot's BackgroundPreinitializer does for its own: the client's JSON
 * mapper with its readers and writer of the first requests (Jackson's static set-up builds date
 * formats from the JDK's locale data, ~20 ms; a record's deserializer ~20 ms) and the classes of
 * Netty's client (its event loop's loggers find slf4j's provider by a scan of the class path,
 * ~25 ms). Only what the command would make the same way on its first request: the main thread
 * finds it ready, or waits for the JVM to finish initializing a class (or for the mapper's
 * holder), and a failure here is met again, and reported, where the command uses the class.
 */
final class Preinitializer extends Thread {
  private Preinitializer() {
    super("fctl-preinit");
    setDaemon(true);
  }

  /** Starts the set-up; call once the logging properties are set (Netty's loggers read them). */
  static void begin() {
    new Preinitializer().start();
  }

  @Override
  public void run() {
    try {
      NettyFleetHttp.prepare();
      FleetClient.prepare();
    } catch (RuntimeException | LinkageError e) {
      // the command meets it again where it uses the class, and says so there
    }
  }
}
