package dev.flotilla.cli;

import dev.flotilla.scheduler.api.FleetApi;
import dev.flotilla.scheduler.api.FleetApiServer;
import dev.flotilla.scheduler.engine.Engine;
import dev.flotilla.scheduler.engine.EngineRegistry;
import dev.flotilla.scheduler.engine.EngineRunner;
import dev.flotilla.scheduler.engine.MemoryEngineLease;
import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.UnitStateRecord;
import dev.flotilla.scheduler.registry.memory.MemoryRegistry;
import dev.flotilla.scheduler.unit.UnitFile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * A fleetd without agents, in this process: the in-memory registry, the real engine on its own
 * thread placing units, and the real fleet API server on a free loopback port (and, when asked, on
 * a Unix socket). Machines are published and unit states reported directly, as agents would.
 */
final class FleetFixture implements AutoCloseable {
  static final String M1 = "113f16a7c1a14a4b9f3b2d1e0c9a8b7f";
  static final String M2 = "2c3d4e5f60718293a4b5c6d7e8f90a1b";

  final MemoryRegistry registry = new MemoryRegistry(System::nanoTime);
  private final FleetApiServer server;
  private final EngineRunner engine;
  final String httpUrl;
  final String unixUrl; // null without a socket

  /** A result of one fctl run. */
  record Run(int exit, String out, String err) {}

  FleetFixture(Path socket) throws IOException {
    registry.publish(new MachineRecord(M1, "10.0.0.1", Map.of("region", "east", "disk", "ssd"),
        new Resources(2000, 1L << 32), "test"), 600);
    List<URI> listen = new ArrayList<>();
    listen.add(URI.create("http://127.0.0.1:0"));
    if (socket != null) {
      listen.add(URI.create("unix://" + socket));
    }
    server = FleetApiServer.start(listen, new FleetApi(registry, registry, registry, registry));
    InetSocketAddress a = (InetSocketAddress) server.boundAddresses().get(0);
    httpUrl = "http://127.0.0.1:" + a.getPort();
    unixUrl = socket == null ? null : "unix://" + socket;
    Engine e = new Engine("e1", new EngineRegistry(registry, registry, registry, registry::watch),
        new MemoryEngineLease(TimeUnit.SECONDS.toNanos(60)), Engine.Config.defaults());
    // the registry's watch is polled: a short idle bound keeps placement prompt
    engine = new EngineRunner(e, System::nanoTime, TimeUnit.MILLISECONDS.toNanos(20)).start();
  }

  void publishSecondMachine() {
    registry.publish(new MachineRecord(M2, "10.0.0.2", Map.of(), new Resources(2000, 1L << 32), "test"), 600);
  }

  /** fctl against the HTTP endpoint. */
  Run fctl(String... args) {
    List<String> all = new ArrayList<>(List.of("--endpoint", httpUrl));
    all.addAll(List.of(args));
    return run(all.toArray(new String[0]), Map.of());
  }

  /** A run in the background whose stderr can be read while it runs. */
  record Async(CompletableFuture<Run> result, ByteArrayOutputStream errSoFar) {
    String err() {
      return errSoFar.toString(StandardCharsets.UTF_8);
    }
  }

  Async fctlAsync(String... args) {
    List<String> all = new ArrayList<>(List.of("--endpoint", httpUrl));
    all.addAll(List.of(args));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    CompletableFuture<Run> result = CompletableFuture.supplyAsync(() -> run(all.toArray(new String[0]), Map.of(), out, err));
    return new Async(result, err);
  }

  static Run run(String[] args, Map<String, String> env) {
    return run(args, env, new ByteArrayOutputStream(), new ByteArrayOutputStream());
  }

  private static Run run(String[] args, Map<String, String> env, ByteArrayOutputStream out, ByteArrayOutputStream err) {
    int exit;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      exit = Fctl.run(args, o, e, env);
    }
    return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** Reports a unit as its agent would, with the hash of the options the cluster has. */
  void report(String unit, String machine, String load, String active, String sub) {
    UnitFile file = registry.unit(unit).orElseThrow().value().file();
    registry.report(new UnitStateRecord(unit, machine, file.hash(), load, active, sub));
  }

  /** The machine the engine placed a unit on, polled for up to 10 s. */
  String awaitPlacement(String unit) {
    await(() -> registry.assignments().get(unit) != null, unit + " placed");
    return registry.assignments().get(unit);
  }

  static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("not within 10 s: " + what);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
    }
  }

  @Override
  public void close() {
    engine.close();
    server.close();
  }
}
