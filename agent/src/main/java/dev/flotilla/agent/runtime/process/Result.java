package dev.flotilla.agent.runtime.process;

/** How an activation of a service ended, in systemd's words ({@code Failed with result 'exit-code'}). */
enum Result {
  SUCCESS("success"),
  /** Could not run a command at all (no executable, no working directory, spawn failed). */
  RESOURCES("resources"),
  EXIT_CODE("exit-code"),
  SIGNAL("signal"),
  TIMEOUT("timeout"),
  START_LIMIT_HIT("start-limit-hit");

  private final String word;

  Result(String word) {
    this.word = word;
  }

  String word() {
    return word;
  }

  /** The first failure of an activation is the one reported: later ones do not replace it. */
  Result and(Result later) {
    return this == SUCCESS ? later : this;
  }
}
