package dev.flotilla.agent;

import dev.flotilla.agent.runtime.RuntimeFailure;
import dev.flotilla.agent.runtime.UnitRuntime;
import dev.flotilla.scheduler.api.UnitHost;
import java.util.List;

/**
 * This machine's answers to {@code fctl status} and {@code fctl journal}, from its runtime; with
 * the process runtime the journal is read from the unit's log file with a cursor, so that
 * {@code fctl journal -f} can follow it (null {@code logs}: the systemd runtime, whose journal is
 * read through {@code journalctl} and cannot be followed yet).
 */
final class LocalUnits implements UnitHost {
  private final String machineId;
  private final UnitRuntime runtime;
  private final UnitLogFiles logs;

  LocalUnits(String machineId, UnitRuntime runtime, UnitLogFiles logs) {
    this.machineId = machineId;
    this.runtime = runtime;
    this.logs = logs;
  }

  @Override
  public String machineId() {
    return machineId;
  }

  // the runtime is driven by the agent's thread; these only read (systemctl status, journalctl, log files)
  @Override
  public String status(String unit) {
    try {
      return runtime.status(unit);
    } catch (RuntimeFailure e) {
      return unit + ": " + e.getMessage();
    }
  }

  @Override
  public JournalPage journal(String unit, int lines) {
    if (logs != null) {
      return logs.tail(unit, lines);
    }
    try {
      return new JournalPage(runtime.journal(unit, lines), null);
    } catch (RuntimeFailure e) {
      return new JournalPage(List.of(unit + ": " + e.getMessage()), null);
    }
  }

  @Override
  public JournalPage journalAfter(String unit, String cursor) {
    if (logs == null) {
      throw new UnsupportedOperationException("machine " + machineId + " runs the " + runtime.name()
          + " runtime, whose journal fleetd cannot follow yet; run fctl journal without -f");
    }
    return logs.after(unit, cursor);
  }
}
