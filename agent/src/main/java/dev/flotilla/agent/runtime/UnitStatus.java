package dev.flotilla.agent.runtime;

/**
 * A unit's state in systemd's words, as the agent reports it: load state ({@code loaded},
 * {@code not-found}, {@code error}), active state ({@code active}, {@code inactive},
 * {@code activating}, {@code deactivating}, {@code failed}), sub state ({@code running},
 * {@code dead}, {@code exited}, {@code auto-restart}, …) and the main process (0 when none).
 */
public record UnitStatus(String loadState, String activeState, String subState, long mainPid) {

  /** What a runtime says of a unit it does not have. */
  public static final UnitStatus NOT_FOUND = new UnitStatus("not-found", "inactive", "dead", 0);

  public boolean isActive() {
    return activeState.equals("active") || activeState.equals("activating") || activeState.equals("reloading");
  }

  /** The same three states (the main PID aside): what the agent compares before reporting. */
  public boolean sameStates(UnitStatus o) {
    return loadState.equals(o.loadState) && activeState.equals(o.activeState) && subState.equals(o.subState);
  }
}
