package dev.flotilla.agent.runtime.process;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * Where a service is in its life, with systemd's active and sub state for each. The legal moves
 * are listed once, in {@link #NEXT}; {@link ServiceSupervisor} throws on any other.
 *
 * <p>A start runs {@code START_PRE → START → START_POST → RUNNING} (or {@code EXITED} for a
 * oneshot that remains). Every way down, whether asked for or because the main process ended or a
 * command failed, runs {@code STOP → STOP_SIGTERM → (STOP_SIGKILL) → STOP_POST → FINAL_SIGTERM →
 * (FINAL_SIGKILL)} and ends {@code DEAD}, {@code FAILED} or {@code AUTO_RESTART}, as in systemd's
 * service.c; a failing start step jumps straight to {@code STOP_SIGTERM}.
 */
enum Phase {
  DEAD("inactive", "dead"),
  START_PRE("activating", "start-pre"),
  START("activating", "start"),
  START_POST("activating", "start-post"),
  RUNNING("active", "running"),
  EXITED("active", "exited"),
  STOP("deactivating", "stop"),
  STOP_SIGTERM("deactivating", "stop-sigterm"),
  STOP_SIGKILL("deactivating", "stop-sigkill"),
  STOP_POST("deactivating", "stop-post"),
  FINAL_SIGTERM("deactivating", "final-sigterm"),
  FINAL_SIGKILL("deactivating", "final-sigkill"),
  AUTO_RESTART("activating", "auto-restart"),
  FAILED("failed", "failed");

  private final String activeState;
  private final String subState;

  Phase(String activeState, String subState) {
    this.activeState = activeState;
    this.subState = subState;
  }

  String activeState() {
    return activeState;
  }

  String subState() {
    return subState;
  }

  /** Not running anything and not about to: a start may begin here. */
  boolean isIdle() {
    return this == DEAD || this == FAILED;
  }

  boolean isStopping() {
    return activeState.equals("deactivating");
  }

  boolean isStarting() {
    return this == START_PRE || this == START || this == START_POST;
  }

  private static final Map<Phase, Set<Phase>> NEXT = new EnumMap<>(Phase.class);

  static {
    // an adopted main process enters RUNNING (or a remembered oneshot EXITED) straight from DEAD
    NEXT.put(DEAD, EnumSet.of(START_PRE, FAILED, RUNNING, EXITED));
    NEXT.put(FAILED, EnumSet.of(START_PRE, FAILED));
    NEXT.put(START_PRE, EnumSet.of(START, STOP_SIGTERM));
    NEXT.put(START, EnumSet.of(START_POST, STOP_SIGTERM));
    NEXT.put(START_POST, EnumSet.of(RUNNING, EXITED, STOP, STOP_SIGTERM));
    NEXT.put(RUNNING, EnumSet.of(STOP));
    NEXT.put(EXITED, EnumSet.of(STOP));
    NEXT.put(STOP, EnumSet.of(STOP_SIGTERM));
    NEXT.put(STOP_SIGTERM, EnumSet.of(STOP_SIGKILL, STOP_POST));
    NEXT.put(STOP_SIGKILL, EnumSet.of(STOP_POST));
    NEXT.put(STOP_POST, EnumSet.of(FINAL_SIGTERM));
    NEXT.put(FINAL_SIGTERM, EnumSet.of(FINAL_SIGKILL, DEAD, FAILED, AUTO_RESTART));
    NEXT.put(FINAL_SIGKILL, EnumSet.of(DEAD, FAILED, AUTO_RESTART));
    NEXT.put(AUTO_RESTART, EnumSet.of(START_PRE, FAILED, DEAD));
  }

  /** Throws {@link IllegalStateException} unless a service may move from this phase to {@code next}. */
  void checkMove(Phase next, String unit) {
    if (!NEXT.get(this).contains(next)) {
      throw new IllegalStateException(unit + ": illegal move from " + this + " to " + next);
    }
  }
}
