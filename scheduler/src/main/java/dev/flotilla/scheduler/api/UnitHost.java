package dev.flotilla.scheduler.api;

import java.util.List;

/**
 * The machine-local side of {@code fctl status} and {@code fctl journal}: the agent of the
 * machine this API runs on, answering for the units it runs.
 */
public interface UnitHost {

  String machineId();

  /** {@code systemctl status}-like text of a unit on this machine. */
  String status(String unit);

  /** The last {@code lines} lines of a unit's output on this machine, oldest first. */
  List<String> journal(String unit, int lines);
}
