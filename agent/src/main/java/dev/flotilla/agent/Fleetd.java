package dev.flotilla.agent;

import dev.flotilla.agent.runtime.UnitRuntime;
import dev.flotilla.agent.runtime.process.ProcessRuntime;
import dev.flotilla.agent.runtime.systemd.SystemdRuntime;
import dev.flotilla.kv.client.JetcdStoreClient;
import dev.flotilla.kv.tls.TlsCredentials;
import dev.flotilla.kv.tls.TlsSettings;
import dev.flotilla.kv.client.StoreClient;
import dev.flotilla.kv.embed.EmbeddedKv;
import dev.flotilla.kv.embed.KvConfig;
import dev.flotilla.scheduler.api.FleetApi;
import dev.flotilla.scheduler.api.FleetApiServer;
import dev.flotilla.scheduler.engine.Engine;
import dev.flotilla.scheduler.engine.EngineRegistry;
import dev.flotilla.scheduler.engine.EngineRunner;
import dev.flotilla.scheduler.engine.StoreEngineLease;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.store.RegistryKeys;
import dev.flotilla.scheduler.registry.store.StoreRegistry;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/fleetd}: the host agent, and (unless {@code --disable-engine}) a candidate for the
 * engine leader, and the fleet API v1 at {@code --api-listen}. With {@code --embedded-store} it
 * also runs a one-member store in this process (the one-machine default); otherwise it uses the
 * store at {@code --endpoints} (kvd or a real etcd).
 */
@Command(name = "fleetd", mixinStandardHelpOptions = true, versionProvider = Fleetd.Version.class,
    description = "Flotilla's host agent: runs the units the cluster assigns to this machine.")
public final class Fleetd implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(Fleetd.class);

  @Option(names = "--endpoints", split = ",", defaultValue = "${env:FLEET_ENDPOINTS:-http://127.0.0.1:2379}",
      description = "Store client URLs (kvd or etcd), comma-separated (default: ${DEFAULT-VALUE}). "
          + "Ignored with --embedded-store.")
  List<URI> endpoints;

  @Option(names = "--etcd-request-timeout", defaultValue = "${env:FLEET_ETCD_REQUEST_TIMEOUT:-5.0}",
      description = "Seconds a store request may take before it counts as failed (fleet's flag; "
          + "default: ${DEFAULT-VALUE}).")
  double etcdRequestTimeout;

  @Option(names = "--etcd-username", defaultValue = "${env:FLEET_ETCD_USERNAME:-}",
      description = "Store auth user (etcd v3 auth); empty: none. Ignored with --embedded-store.")
  String etcdUsername;

  @Option(names = "--etcd-password", defaultValue = "${env:FLEET_ETCD_PASSWORD:-}",
      description = "Password of --etcd-username (or set FLEET_ETCD_PASSWORD, which stays out of ps).")
  String etcdPassword;

  @Option(names = "--machine-id", defaultValue = "${env:FLEET_MACHINE_ID:-}",
      description = "This machine's ID (default: the contents of /etc/machine-id).")
  String machineId;

  @Option(names = "--public-ip", defaultValue = "${env:FLEET_PUBLIC_IP:-}",
      description = "IP address shown for this machine (default: the address the store connection uses).")
  String publicIp;

  @Option(names = "--metadata", defaultValue = "${env:FLEET_METADATA:-}",
      description = "Machine metadata as k=v,k=v (matched by MachineMetadata=).")
  String metadata;

  @Option(names = "--agent-ttl", defaultValue = "${env:FLEET_AGENT_TTL:-30s}", converter = GoDuration.class,
      description = "How long the machine stays present without the agent renewing it (default: ${DEFAULT-VALUE}).")
  Duration agentTtl;

  @Option(names = "--engine-reconcile-interval", defaultValue = "${env:FLEET_ENGINE_RECONCILE_INTERVAL:-2}",
      description = "Seconds between the engine's safety passes over the whole registry; events act at once "
          + "(default: ${DEFAULT-VALUE}).")
  double engineReconcileInterval;

  @Option(names = "--api-listen", split = ",", defaultValue = "${env:FLEET_API_LISTEN:-unix:///var/run/fleet.sock}",
      description = "Where to serve the fleet API v1: unix:///path, http://host:port or https://host:port "
          + "(with --cert-file, --key-file), comma-separated (default: ${DEFAULT-VALUE}).")
  List<URI> apiListen;

  @Option(names = {"--ca-file", "--etcd-cafile"}, defaultValue = "${env:FLEET_ETCD_CAFILE}",
      description = "CA certificate (PEM) that signs the store's certificates and, on an https --api-listen, the "
          + "certificates fctl must present (fleet's etcd_cafile).")
  Path caFile;

  @Option(names = {"--cert-file", "--etcd-certfile"}, defaultValue = "${env:FLEET_ETCD_CERTFILE}",
      description = "This fleetd's certificate (PEM): presented to the store, served on an https --api-listen and "
          + "an https embedded store (fleet's etcd_certfile).")
  Path certFile;

  @Option(names = {"--key-file", "--etcd-keyfile"}, defaultValue = "${env:FLEET_ETCD_KEYFILE}",
      description = "The key (PEM, PKCS#8) of --cert-file (fleet's etcd_keyfile).")
  Path keyFile;

  @Option(names = "--runtime", defaultValue = "${env:FLEET_RUNTIME:-auto}",
      description = "systemd, process, or auto: systemd where it is PID 1 (/run/systemd/system exists), "
          + "else supervised processes (default: ${DEFAULT-VALUE}).")
  String runtime;

  @Option(names = "--disable-engine", description = "Never take part in scheduling (agent only).")
  boolean disableEngine;

  @Option(names = "--embedded-store", description = "Run a one-member store in this process and use it.")
  boolean embeddedStore;

  @Option(names = "--data-dir", defaultValue = "${env:FLEET_DATA_DIR:-/var/lib/fleetd}",
      description = "Where fleetd keeps its state: the embedded store (store/) and the process runtime's units "
          + "and logs (processes/) (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--listen-client-urls", defaultValue = "${env:ETCD_LISTEN_CLIENT_URLS:-http://127.0.0.1:2379}",
      split = ",", description = "With --embedded-store: where the store serves clients (etcd's flag; "
          + "default: ${DEFAULT-VALUE}).")
  List<URI> listenClientUrls;

  @Option(names = "--unit-dir", defaultValue = "/run/systemd/system",
      description = "With the systemd runtime: where unit files are written (default: ${DEFAULT-VALUE}).")
  Path unitDir;

  @Option(names = "--key-prefix", defaultValue = "${env:FLEET_ETCD_KEY_PREFIX:-" + RegistryKeys.DEFAULT_PREFIX + "}",
      description = "Where in the store the registry lives (default: ${DEFAULT-VALUE}).")
  String keyPrefix;

  public static void main(String[] args) {
    int code = commandLine().execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }

  static CommandLine commandLine() {
    return new CommandLine(new Fleetd())
        .setExecutionExceptionHandler((e, cmd, parsed) -> {
          cmd.getErr().println("fleetd: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
          return 1;
        });
  }

  @Override
  public Integer call() throws Exception {
    Fleet fleet = start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("shutting down");
      fleet.close();
      stopped.countDown();
    }, "shutdown"));
    stopped.await();
    return 0;
  }

  /** Everything fleetd runs, closed in reverse order. */
  public static final class Fleet implements AutoCloseable {
    private final List<AutoCloseable> parts = new ArrayList<>();
    private Agent agent;
    private FleetApiServer api;

    private <T extends AutoCloseable> T add(T part) {
      parts.add(part);
      return part;
    }

    public Agent agent() {
      return agent;
    }

    public FleetApiServer api() {
      return api;
    }

    @Override
    public void close() {
      for (int i = parts.size() - 1; i >= 0; i--) {
        try {
          parts.get(i).close();
        } catch (Exception e) {
          log.warn("closing {}: {}", parts.get(i).getClass().getSimpleName(), e.toString());
        }
      }
      parts.clear();
    }
  }

  /** Starts every part; on failure, closes what started and throws. */
  public Fleet start() throws IOException {
    Fleet fleet = new Fleet();
    try {
      HostFacts host = HostFacts.of(machineId, publicIp, metadata);
      StoreClient client;
      if (embeddedStore) {
        Files.createDirectories(dataDir);
        EmbeddedKv kv = fleet.add(EmbeddedKv.start(KvConfig.builder(dataDir.resolve("store"))
            .name(host.machineId())
            .listenClientUrls(listenClientUrls)
            // https client URLs: this fleetd's certificate; with --ca-file, clients need one it signed
            .clientTls(certFile == null ? null : dev.flotilla.kv.tls.TlsSettings.client(certFile, keyFile, caFile,
                caFile != null))
            .build()));
        kv.ready().join();
        client = fleet.add(kv.storeClient());
        log.info("embedded store serving clients on {}", kv.clientUrls());
      } else {
        var storeTls = endpoints.stream().anyMatch(u -> "https".equals(u.getScheme()))
            ? fleet.add(TlsCredentials.load(TlsSettings.tool(caFile, certFile, keyFile))) : null;
        client = fleet.add(JetcdStoreClient.connect(endpoints, requestTimeout(), storeTls, etcdUsername, etcdPassword));
      }
      StoreRegistry registry = new StoreRegistry(client, keyPrefix);
      String ip = publicIpFor(host);
      UnitRuntime unitRuntime = chooseRuntime(); // the agent closes it
      LocalUnits local = new LocalUnits(host.machineId(), unitRuntime);
      for (URI u : apiListen) {
        if ("unix".equals(u.getScheme())) {
          Files.createDirectories(Path.of(u.getPath()).getParent());
        }
      }
      io.netty.handler.ssl.SslContext apiTls = null;
      if (apiListen.stream().anyMatch(u -> "https".equals(u.getScheme()))) {
        if (certFile == null) {
          throw new IllegalArgumentException("--api-listen " + apiListen + " is https: give --cert-file and --key-file");
        }
        // with --ca-file, an API client (fctl) must present a certificate that CA signed
        apiTls = fleet.add(TlsCredentials.load(new TlsSettings(certFile, keyFile, caFile, caFile != null, "--",
            "--ca-file"))).nettyServer();
      }
      fleet.api = fleet.add(FleetApiServer.start(apiListen,
          new FleetApi(registry, registry, registry, registry, local), apiTls));
      log.info("fleet API serving on {}", fleet.api.boundAddresses());
      boolean apiHttps = apiListen.stream().filter(u -> !"unix".equals(u.getScheme())).findFirst()
          .map(u -> "https".equals(u.getScheme())).orElse(false);
      MachineRecord machine = host.record(ip, agentUrl(fleet.api, ip, apiHttps));
      log.info("machine {} ({}), metadata {}, runtime {}", machine.id(), machine.publicIp(), machine.metadata(),
          unitRuntime.name());

      if (!disableEngine) {
        StoreEngineLease lease = new StoreEngineLease(client, registry.keys().prefix() + "engine/leader",
            Math.max(2, agentTtl.toSeconds()));
        long safetyPass = (long) (engineReconcileInterval * 1e9);
        Engine engine = new Engine(machine.id(),
            new EngineRegistry(registry, registry, registry, registry::watch, lease.fence(registry),
                registry::revision),
            lease,
            // a quiet registry's safety pass asks the store's revision as often as the leader
            // renews its lease, not every interval: in between, a watch that saw nothing suffices
            new Engine.Config(safetyPass, Engine.Config.defaults().maxEventsPerPoll(),
                Math.max(safetyPass, lease.ttlNanos() / 3))
                // a burst of units (fctl start of 300: three txns, landing 10-40 ms apart) placed in
                // one pass, so each agent starts its share in one round; fewer than 16 units at once
                // (a single start) are placed at once
                .withBurstWindow(16, Duration.ofMillis(50).toNanos(), Duration.ofMillis(200).toNanos()));
        EngineRunner runner = new EngineRunner(engine, System::nanoTime, Duration.ofMillis(Agent.POLL_MS).toNanos());
        registry.signalWatchEventsTo(runner::wakeUp); // the engine's watch wakes it: no 100 ms polling
        lease.signalChangesTo(runner::wakeUp); // a follower's watch of the leader key wakes it
        fleet.add(runner.start());
      }
      fleet.agent = fleet.add(new Agent(machine, agentTtl, new StoreRegistry(client, keyPrefix), unitRuntime,
          AgentReconciler.Config.defaults(), !unitRuntime.name().equals("systemd")).start());
      return fleet;
    } catch (IOException | RuntimeException e) {
      fleet.close();
      throw e;
    }
  }

  /** Where other machines reach this agent: the first http:// API address, the wildcard replaced by our IP. */
  private static String agentUrl(FleetApiServer api, String ip, boolean https) {
    for (java.net.SocketAddress a : api.boundAddresses()) {
      if (a instanceof java.net.InetSocketAddress inet) {
        String host = inet.getAddress().isAnyLocalAddress() ? ip : inet.getAddress().getHostAddress();
        return (https ? "https://" : "http://") + (host.contains(":") ? "[" + host + "]" : host) + ":" + inet.getPort();
      }
    }
    return "";
  }

  private String publicIpFor(HostFacts host) {
    if (!host.publicIp().isEmpty()) {
      return host.publicIp();
    }
    URI store = embeddedStore ? listenClientUrls.get(0) : endpoints.get(0);
    return HostFacts.addressTowards(store);
  }

  private UnitRuntime chooseRuntime() throws IOException {
    String kind = runtime;
    if (kind.equals("auto")) {
      // sd_booted(): systemd is the init system when /run/systemd/system exists
      kind = Files.isDirectory(Path.of("/run/systemd/system")) ? "systemd" : "process";
    }
    return switch (kind) {
      case "systemd" -> new SystemdRuntime(unitDir, List.of());
      case "process" -> {
        Files.createDirectories(dataDir);
        yield new ProcessRuntime(dataDir.resolve("processes"));
      }
      default -> throw new IllegalArgumentException("--runtime: '" + runtime + "' is not one of systemd, process, auto");
    };
  }

  private Duration requestTimeout() {
    if (!(etcdRequestTimeout > 0) || etcdRequestTimeout > 3600) {
      throw new IllegalArgumentException("--etcd-request-timeout must be a number of seconds above 0, got "
          + etcdRequestTimeout);
    }
    return Duration.ofMillis(Math.round(etcdRequestTimeout * 1000));
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Fleetd.class.getPackage().getImplementationVersion();
      return new String[] {"fleetd (Flotilla) " + (v == null ? "0.1.0-SNAPSHOT" : v)};
    }
  }
}
