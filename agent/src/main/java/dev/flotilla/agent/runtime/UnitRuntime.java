package dev.flotilla.agent.runtime;

import dev.flotilla.scheduler.api.UnitHost.JournalPage;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the agent drives on its host: systemd through shell-outs ({@code SystemdRuntime}), or
 * supervised child processes where systemd is not PID 1 ({@code ProcessRuntime}). Every call
 * takes a batch so that one reconcile pass costs one {@code systemctl} per kind of action, not one
 * per unit. Unit names are full systemd names ({@code web@1.service}); unit files are their text.
 *
 * <p>Calls that act on the host ({@code load}, {@code unload}, {@code start}, {@code stop},
 * {@code states}, {@code changes}) come from the agent's one reconciler thread; implementations need
 * not be reentrant for those. {@code status}, {@code journal} and {@code journalAfter} answer
 * {@code fctl} through the fleet API's threads, at the same time: they only read.
 * A failure for one unit does not stop the rest of the batch: it is thrown after the batch as a
 * {@link RuntimeFailure} naming each unit that failed.
 */
public interface UnitRuntime extends AutoCloseable {

  /** "systemd" or "process": what {@code --runtime} names. */
  String name();

  /**
   * Installs or replaces these unit files and makes them known (one {@code daemon-reload} for
   * the batch). Loading a unit that runs does not stop it.
   */
  void load(Map<String, String> unitFiles);

  /**
   * {@link #load} these files, then {@link #start} these units (those of the files among them,
   * or others already loaded): what the agent does with new assignments. A runtime may take the
   * two together more cheaply (systemd: no check before starting units whose files are new). The
   * start is tried also when the load failed; the failures of both are thrown after.
   */
  default void loadAndStart(Map<String, String> unitFiles, Collection<String> units) {
    RuntimeFailure loadFailed = null;
    try {
      load(unitFiles);
    } catch (RuntimeFailure e) {
      loadFailed = e;
    }
    try {
      start(units);
    } catch (RuntimeFailure e) {
      throw loadFailed == null ? e : new RuntimeFailure(loadFailed.getMessage() + "; " + e.getMessage());
    }
    if (loadFailed != null) {
      throw loadFailed;
    }
  }

  /** Stops these units where they run and removes their files; unknown units are ignored. */
  void unload(Collection<String> units);

  /** Starts these loaded units; starting one that runs does nothing. */
  void start(Collection<String> units);

  /** Stops these units; stopping one that does not run does nothing. */
  void stop(Collection<String> units);

  /**
   * The states of these units, read in one batch; a unit the runtime does not have is
   * {@link UnitStatus#NOT_FOUND}.
   */
  Map<String, UnitStatus> states(Collection<String> units);

  /**
   * {@link #states}, where the main PID may be 0: the three states the agent reports, which a
   * runtime may read more cheaply (systemd: one {@code list-units} call for the units it has in
   * memory instead of a {@code show} of every property of each). The default reads {@link #states}.
   */
  default Map<String, UnitStatus> reportedStates(Collection<String> units) {
    return states(units);
  }

  /**
   * The units whose state changed since the last call, as the runtime learnt it without polling
   * (systemd: its journal; the process runtime: its supervisor), drained by each call. Cheap and
   * non-blocking: the agent calls it every round. The default follows nothing
   * ({@link StateChanges#NOT_FOLLOWED}), and the agent then polls {@link #states}.
   */
  default StateChanges changes() {
    return StateChanges.NOT_FOLLOWED;
  }

  /**
   * Has the runtime run {@code signal} (quick, non-blocking: an {@code unpark}) whenever it learns
   * of a change that {@link #changes} will hand out, so that the agent's thread wakes for it
   * instead of looking every so often. The default never runs it (nothing is followed).
   */
  default void signalChangesTo(Runnable signal) {}

  /**
   * Whether {@link #loadAndStart} may run on another thread beside the agent's other calls, and
   * beside another {@code loadAndStart} of other units: the agent then starts units assigned while
   * a start runs at once instead of after it. The default says no.
   */
  default boolean startsConcurrently() {
    return false;
  }

  /**
   * The units this runtime installed (files it wrote, still there): after an agent restart the
   * agent adopts those still assigned to it and unloads the rest.
   */
  Set<String> installed();

  /**
   * The last {@code lines} lines of a unit's output, oldest first ({@code journalctl -u}), and a
   * cursor just past them for {@link #journalAfter}.
   */
  JournalPage journal(String unit, int lines);

  /**
   * What the unit wrote after {@code cursor} (from an earlier page of this runtime), a bounded
   * amount per call, and the next cursor: {@code fctl journal -f} polls it. Throws
   * {@link IllegalArgumentException} for a cursor this runtime did not make.
   */
  JournalPage journalAfter(String unit, String cursor);

  /** A human-readable status of a unit, as {@code systemctl status} prints it. */
  String status(String unit);

  /**
   * Lets go of the host: the systemd runtime leaves units running (a restarted agent adopts
   * them); the process runtime stops its children, so that nothing outlives the agent.
   */
  @Override
  void close();
}
