package dev.flotilla.agent;

import dev.flotilla.agent.runtime.RuntimeFailure;
import dev.flotilla.agent.runtime.UnitRuntime;
import dev.flotilla.scheduler.api.UnitHost;
import java.util.List;

/**
 * This machine's answers to {@code fctl status} and {@code fctl journal}, from its runtime
 * ({@code systemctl status} and {@code journalctl} with cursors for the systemd runtime; the
 * supervisor's view and the unit's log file for the process runtime), so that
 * {@code fctl journal -f} can follow either.
 */
final class LocalUnits implements UnitHost {
  private final String machineId;
  private final UnitRuntime runtime;

  LocalUnits(String machineId, UnitRuntime runtime) {
    this.machineId = machineId;
    this.runtime = runtime;
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
    try {
      return runtime.journal(unit, lines);
    } catch (RuntimeFailure e) {
      return new JournalPage(List.of(unit + ": " + e.getMessage()), null);
    }
  }

  @Override
  public JournalPage journalAfter(String unit, String cursor) {
    try {
      return runtime.journalAfter(unit, cursor);
    } catch (RuntimeFailure e) {
      throw new UnsupportedOperationException("cannot read the journal of " + unit + " on machine " + machineId
          + ": " + e.getMessage());
    }
  }
}
