package dev.flotilla.cli;

import dev.flotilla.agent.Fleetd;
import dev.flotilla.cli.FleetFixture.Run;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import picocli.CommandLine;

/**
 * A real fleetd in this process, as {@code bin/fleetd} runs it: the embedded one-member store on a
 * free loopback port, the engine, the agent with the process runtime (units are real child
 * processes of this JVM, stopped when it closes) and the fleet API on a Unix socket and on a free
 * HTTP port.
 */
final class RealFleetd implements AutoCloseable {
  static final String MACHINE = "5a1e0c0ffee04b1d9a7e3c2f1d0b9a87";

  final Path dataDir;
  final String unixUrl;
  final String httpUrl;
  final String storeUrl;
  private final Fleetd.Fleet fleet;

  RealFleetd(Path dir) throws IOException {
    dataDir = dir.resolve("data");
    unixUrl = "unix://" + dir.resolve("fleet.sock");
    storeUrl = "http://127.0.0.1:" + freePort();
    Fleetd fleetd = new Fleetd();
    new CommandLine(fleetd).parseArgs("--embedded-store", "--runtime", "process", "--data-dir", dataDir.toString(),
        "--listen-client-urls", storeUrl, "--api-listen", unixUrl + ",http://127.0.0.1:0",
        "--machine-id", MACHINE, "--public-ip", "127.0.0.1", "--metadata", "role=test",
        "--agent-ttl", "10s", "--engine-reconcile-interval", "1");
    fleet = fleetd.start();
    InetSocketAddress http = (InetSocketAddress) fleet.api().boundAddresses().get(1);
    httpUrl = "http://127.0.0.1:" + http.getPort();
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** fctl against the Unix socket (fleetctl's default kind of endpoint). */
  Run fctl(String... args) {
    return run(unixUrl, args);
  }

  /** fctl against the HTTP endpoint. */
  Run fctlHttp(String... args) {
    return run(httpUrl, args);
  }

  private static Run run(String endpoint, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit = run(endpoint, out, err, args);
    return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** fctl writing to these streams (for a run read while it goes on); returns the exit status. */
  int fctlTo(OutputStream out, OutputStream err, String... args) {
    return run(unixUrl, out, err, args);
  }

  private static int run(String endpoint, OutputStream out, OutputStream err, String... args) {
    List<String> all = new ArrayList<>(List.of("--endpoint", endpoint));
    all.addAll(List.of(args));
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      return Fctl.run(all.toArray(new String[0]), o, e, Map.of());
    }
  }

  static void await(BooleanSupplier condition, long seconds, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("not within " + seconds + " s: " + what);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
    }
  }

  @Override
  public void close() {
    fleet.close();
  }

  /**
   * Closes {@code fleetd} (if it started) and waits until no unit process is left: the process
   * runtime stops its units when fleetd closes, so nothing outlives the test class.
   */
  static void closeAndAwaitUnitsGone(RealFleetd fleetd) {
    if (fleetd != null) {
      fleetd.close();
    }
    await(() -> ProcessHandle.current().descendants().noneMatch(ProcessHandle::isAlive), 10,
        "every unit process gone after fleetd closed");
  }
}
