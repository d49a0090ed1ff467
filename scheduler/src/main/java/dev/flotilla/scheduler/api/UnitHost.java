package dev.flotilla.scheduler.api;

import java.util.List;

/**
 * The machine-local side of {@code fctl status} and {@code fctl journal}: the agent of the
 * machine this API runs on, answering for the units it runs.
 */
public interface UnitHost {

  /**
   * Lines of a unit's output, oldest first, and the cursor just past the last of them (an
   * opaque position in this machine's log), or null when this host cannot read on from a position.
   */
  record JournalPage(List<String> lines, String cursor) {}

  String machineId();

  /** {@code systemctl status}-like text of a unit on this machine. */
  String status(String unit);

  /** The last {@code lines} lines of a unit's output on this machine, and where it ends. */
  JournalPage journal(String unit, int lines);

  /**
   * What the unit wrote after {@code cursor} (from an earlier page of this host), at most a
   * bounded amount per call; {@code fctl journal -f} polls it. Throws
   * {@link IllegalArgumentException} for a cursor this host did not make, and
   * {@link UnsupportedOperationException} when it cannot follow a journal.
   */
  JournalPage journalAfter(String unit, String cursor);
}
