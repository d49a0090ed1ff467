package dev.flotilla.scheduler.registry;

import dev.flotilla.scheduler.fleet.Resources;
import java.util.Map;

/**
 * A machine's presence as its agent publishes it under a lease (it disappears when the lease
 * expires): ID ({@code /etc/machine-id}), public IP, metadata, what it offers reserved units, the
 * agent's version, and where its agent answers for the units it runs ({@code agentUrl}, an
 * {@code http://} fleet API URL, empty when it serves none reachable from other machines): the
 * API of any machine forwards {@code fctl status} and {@code fctl journal} there.
 */
public record MachineRecord(String id, String publicIp, Map<String, String> metadata, Resources capacity,
    String version, String agentUrl) {

  public MachineRecord {
    metadata = Map.copyOf(metadata);
    agentUrl = agentUrl == null ? "" : agentUrl;
  }

  public MachineRecord(String id, String publicIp, Map<String, String> metadata, Resources capacity, String version) {
    this(id, publicIp, metadata, capacity, version, "");
  }

  /** The same machine with other metadata (an operator's PATCH). */
  public MachineRecord withMetadata(Map<String, String> newMetadata) {
    return new MachineRecord(id, publicIp, newMetadata, capacity, version, agentUrl);
  }
}
