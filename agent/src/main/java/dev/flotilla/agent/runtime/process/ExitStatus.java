package dev.flotilla.agent.runtime.process;

/**
 * How a process ended. Java reports a child killed by signal N as exit value 128+N, so values
 * 129..192 are read as signals (a program that calls {@code exit(143)} reads as killed by TERM,
 * as a shell would say too). A process the runtime adopted after an agent restart is not its child:
 * how it ended is unknown.
 */
record ExitStatus(Kind kind, int value) {

  enum Kind { EXITED, KILLED, UNKNOWN }

  static final ExitStatus UNKNOWN = new ExitStatus(Kind.UNKNOWN, 0);

  static ExitStatus fromExitValue(int v) {
    return v > 128 && v <= 128 + 64 ? new ExitStatus(Kind.KILLED, v - 128) : new ExitStatus(Kind.EXITED, v);
  }

  boolean success() {
    return kind == Kind.EXITED && value == 0;
  }

  /**
   * The result this ends a main process with: a clean exit or, outside oneshot services, a death by
   * HUP, INT, TERM or PIPE is a success (systemd's clean signals); unknown counts as a failure.
   */
  Result mainResult(boolean oneshot) {
    return switch (kind) {
      case EXITED -> value == 0 ? Result.SUCCESS : Result.EXIT_CODE;
      case KILLED -> !oneshot && (value == 1 || value == 2 || value == 13 || value == 15) ? Result.SUCCESS : Result.SIGNAL;
      case UNKNOWN -> Result.EXIT_CODE;
    };
  }

  /** The result a control command (ExecStartPre …) ends with. */
  Result controlResult() {
    return switch (kind) {
      case EXITED -> value == 0 ? Result.SUCCESS : Result.EXIT_CODE;
      case KILLED -> Result.SIGNAL;
      case UNKNOWN -> Result.EXIT_CODE;
    };
  }

  /** {@code code=exited, status=1/FAILURE}, as systemd logs it. */
  String describe() {
    return switch (kind) {
      case EXITED -> "code=exited, status=" + value + statusName(value);
      case KILLED -> "code=killed, signal=" + signalName(value);
      case UNKNOWN -> "code=unknown (adopted after an agent restart, not a child of this agent)";
    };
  }

  private static String statusName(int v) {
    return switch (v) {
      case 0 -> "/SUCCESS";
      case 1 -> "/FAILURE";
      case 2 -> "/INVALIDARGUMENT";
      case 3 -> "/NOTIMPLEMENTED";
      case 4 -> "/NOPERMISSION";
      case 5 -> "/NOTINSTALLED";
      case 6 -> "/NOTCONFIGURED";
      case 7 -> "/NOTRUNNING";
      case 126 -> "/NOEXEC";
      case 127 -> "/NOTFOUND";
      default -> "";
    };
  }

  static String signalName(int sig) {
    return switch (sig) {
      case 1 -> "HUP";
      case 2 -> "INT";
      case 3 -> "QUIT";
      case 6 -> "ABRT";
      case 9 -> "KILL";
      case 10 -> "USR1";
      case 11 -> "SEGV";
      case 12 -> "USR2";
      case 13 -> "PIPE";
      case 14 -> "ALRM";
      case 15 -> "TERM";
      default -> String.valueOf(sig);
    };
  }
}
