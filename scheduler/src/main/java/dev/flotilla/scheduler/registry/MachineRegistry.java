package dev.flotilla.scheduler.registry;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Machine presence, lease-backed: an entry lives as long as its agent keeps the lease alive. */
public interface MachineRegistry {

  /** Present machines, by ID. */
  List<MachineRecord> machines();

  Optional<MachineRecord> machine(String id);

  /** Publishes (or refreshes) the calling agent's presence under a lease of {@code ttlSeconds}. */
  void publish(MachineRecord machine, long ttlSeconds);

  /** Replaces a machine's metadata (the API's JSON Patch of /fleet/v1/machines). */
  boolean setMetadata(String id, Map<String, String> metadata);
}
