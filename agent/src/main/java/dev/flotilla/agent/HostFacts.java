package dev.flotilla.agent;

import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.registry.MachineRecord;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the agent says about its machine: its ID, public IP, metadata and capacity (CPU in
 * millicores, memory in bytes: what {@code CPUReservation=} and {@code MemoryReservation=} are
 * matched against).
 */
record HostFacts(String machineId, String publicIp, Map<String, String> metadata, Resources capacity) {

  static final Path MACHINE_ID = Path.of("/etc/machine-id");

  static HostFacts of(String machineIdFlag, String publicIpFlag, String metadataFlag) {
    return new HostFacts(readMachineId(machineIdFlag), publicIpFlag == null ? "" : publicIpFlag.trim(),
        parseMetadata(metadataFlag), detectCapacity());
  }

  MachineRecord record(String ip, String agentUrl) {
    String v = Fleetd.class.getPackage().getImplementationVersion();
    return new MachineRecord(machineId, ip, metadata, capacity, "flotilla-" + (v == null ? "0.1.0-SNAPSHOT" : v),
        agentUrl);
  }

  static String readMachineId(String flag) {
    if (flag != null && !flag.isBlank()) {
      String id = flag.trim();
      if (id.indexOf('/') >= 0) {
        throw new IllegalArgumentException("--machine-id: '" + id + "' must not contain '/'");
      }
      return id;
    }
    try {
      String id = Files.readString(MACHINE_ID, StandardCharsets.UTF_8).trim();
      if (id.isEmpty()) {
        throw new IllegalArgumentException(MACHINE_ID + " is empty; pass --machine-id");
      }
      return id;
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(MACHINE_ID + " does not exist; pass --machine-id");
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + MACHINE_ID + " (" + e.getMessage() + "); pass --machine-id");
    }
  }

  /** fleet's {@code --metadata} syntax: {@code k=v,k=v}; keys and values are trimmed. */
  static Map<String, String> parseMetadata(String csv) {
    Map<String, String> out = new TreeMap<>();
    if (csv == null || csv.isBlank()) {
      return out;
    }
    for (String pair : csv.split(",")) {
      int eq = pair.indexOf('=');
      if (eq <= 0 || pair.substring(0, eq).isBlank()) {
        throw new IllegalArgumentException("--metadata: '" + pair.trim() + "' is not key=value (e.g. --metadata region=eu,disk=ssd)");
      }
      out.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
    }
    return out;
  }

  static Resources detectCapacity() {
    long cpu = Runtime.getRuntime().availableProcessors() * 1000L;
    long memory = 0;
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      memory = os.getTotalMemorySize();
    }
    return new Resources(cpu, memory);
  }

  /** The local address this host would use to reach {@code target} (no packet is sent). */
  static String addressTowards(URI target) {
    int port = target.getPort() > 0 ? target.getPort() : 2379;
    try (DatagramSocket s = new DatagramSocket()) {
      s.connect(new InetSocketAddress(target.getHost(), port));
      return s.getLocalAddress().getHostAddress();
    } catch (IOException | RuntimeException e) {
      return "127.0.0.1";
    }
  }
}
