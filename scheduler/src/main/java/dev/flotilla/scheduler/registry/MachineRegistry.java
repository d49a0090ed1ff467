package dev.flotilla.scheduler.registry;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Machine presence, lease-backed: an entry lives as long as its agent keeps the lease alive. */
public interface MachineRegistry {

  /** Present machines, by ID. */
  List<MachineRecord> machines();

  Optional<MachineRecord> machine(String id);

  /**
   * Publishes (or refreshes) the calling agent's presence under a lease of {@code ttlSeconds}.
   *
   * @return true when the presence was (re)created: the machine was absent or its lease had run
   *     out, so what lived under the lease (the unit states it reported) is gone and must be
   *     reported again
   */
  boolean publish(MachineRecord machine, long ttlSeconds);

  /** Replaces a machine's metadata (the API's JSON Patch of /fleet/v1/machines). */
  boolean setMetadata(String id, Map<String, String> metadata);
}
