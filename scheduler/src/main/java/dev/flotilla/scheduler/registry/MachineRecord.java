package dev.flotilla.scheduler.registry;

import dev.flotilla.scheduler.fleet.Resources;
import java.util.Map;

/**
 * A machine's presence as its agent publishes it under a lease (it disappears when the lease
 * expires): ID ({@code /etc/machine-id}), public IP, metadata, what it offers reserved units, and
 * the agent's version.
 */
public record MachineRecord(String id, String publicIp, Map<String, String> metadata, Resources capacity,
    String version) {

  public MachineRecord {
    metadata = Map.copyOf(metadata);
  }
}
