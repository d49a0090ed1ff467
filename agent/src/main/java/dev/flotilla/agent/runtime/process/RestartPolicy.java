package dev.flotilla.agent.runtime.process;

import java.util.Arrays;
import java.util.stream.Collectors;

/** {@code Restart=}: after which results a service is started again (systemd.service(5), table 2). */
enum RestartPolicy {
  NO("no"),
  ON_SUCCESS("on-success"),
  ON_FAILURE("on-failure"),
  ON_ABNORMAL("on-abnormal"),
  ON_ABORT("on-abort"),
  ALWAYS("always");

  private final String word;

  RestartPolicy(String word) {
    this.word = word;
  }

  String word() {
    return word;
  }

  static RestartPolicy parse(String value) {
    for (RestartPolicy p : values()) {
      if (p.word.equals(value)) {
        return p;
      }
    }
    throw new IllegalArgumentException("Restart=" + value + ": expected one of "
        + Arrays.stream(values()).map(RestartPolicy::word).collect(Collectors.joining(", ")));
  }

  /** Whether an activation that ended with {@code result} (and was not stopped on request) restarts. */
  boolean restartsAfter(Result result) {
    if (result == Result.START_LIMIT_HIT) {
      return false;
    }
    return switch (this) {
      case NO -> false;
      case ALWAYS -> true;
      case ON_SUCCESS -> result == Result.SUCCESS;
      case ON_FAILURE -> result != Result.SUCCESS;
      case ON_ABNORMAL -> result == Result.SIGNAL || result == Result.TIMEOUT;
      case ON_ABORT -> result == Result.SIGNAL;
    };
  }
}
