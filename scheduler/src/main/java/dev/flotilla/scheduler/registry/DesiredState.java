package dev.flotilla.scheduler.registry;

import java.util.Locale;

/**
 * What the user wants of a unit (fleet's job target state), in fleet's JSON spelling. A unit moves
 * only to a neighbouring state: inactive ↔ loaded ↔ launched (fleetctl start loads, then
 * launches; stop goes back to loaded; unload to inactive).
 */
public enum DesiredState {
  /** Submitted, not scheduled. */
  INACTIVE,
  /** Scheduled and loaded into systemd on its machine, not started. */
  LOADED,
  /** Scheduled, loaded and started. */
  LAUNCHED;

  /** "inactive", "loaded", "launched". */
  public String json() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static DesiredState fromJson(String s) {
    for (DesiredState d : values()) {
      if (d.json().equals(s)) {
        return d;
      }
    }
    throw new IllegalArgumentException("invalid desired state '" + s + "': use inactive, loaded or launched");
  }

  /** Whether a unit may go from this state to {@code next} in one step. */
  public boolean isNeighbour(DesiredState next) {
    return Math.abs(ordinal() - next.ordinal()) == 1;
  }

  /** The next state on the way to {@code target} (itself when already there). */
  public DesiredState stepToward(DesiredState target) {
    int d = Integer.compare(target.ordinal(), ordinal());
    return values()[ordinal() + d];
  }
}
