package dev.flotilla.agent.runtime.process;

import java.time.Duration;
import java.util.Map;

/**
 * systemd time spans (systemd.time(7)): numbers with units, summed ({@code 1min 30s}, {@code 2h5m},
 * {@code 500ms}); a bare number means seconds; {@code infinity} means no limit.
 */
final class TimeSpans {

  /** What {@code infinity} parses to: no limit. */
  static final Duration INFINITY = Duration.ofSeconds(Long.MAX_VALUE);

  private static final Map<String, Long> NANOS_PER_UNIT = Map.ofEntries(
      Map.entry("us", 1_000L), Map.entry("usec", 1_000L), Map.entry("µs", 1_000L),
      Map.entry("ms", 1_000_000L), Map.entry("msec", 1_000_000L),
      Map.entry("s", 1_000_000_000L), Map.entry("sec", 1_000_000_000L),
      Map.entry("second", 1_000_000_000L), Map.entry("seconds", 1_000_000_000L),
      Map.entry("m", 60_000_000_000L), Map.entry("min", 60_000_000_000L),
      Map.entry("minute", 60_000_000_000L), Map.entry("minutes", 60_000_000_000L),
      Map.entry("h", 3_600_000_000_000L), Map.entry("hr", 3_600_000_000_000L),
      Map.entry("hour", 3_600_000_000_000L), Map.entry("hours", 3_600_000_000_000L),
      Map.entry("d", 86_400_000_000_000L), Map.entry("day", 86_400_000_000_000L),
      Map.entry("days", 86_400_000_000_000L),
      Map.entry("w", 604_800_000_000_000L), Map.entry("week", 604_800_000_000_000L),
      Map.entry("weeks", 604_800_000_000_000L));

  private TimeSpans() {}

  /** Parses a span; throws {@link IllegalArgumentException} saying what is wrong. */
  static Duration parse(String text) {
    String s = text.strip();
    if (s.equals("infinity")) {
      return INFINITY;
    }
    if (s.isEmpty()) {
      throw new IllegalArgumentException("empty time span");
    }
    long nanos = 0;
    int i = 0;
    int n = s.length();
    while (i < n) {
      while (i < n && Character.isWhitespace(s.charAt(i))) {
        i++;
      }
      if (i == n) {
        break;
      }
      int numStart = i;
      while (i < n && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
        i++;
      }
      if (numStart == i) {
        throw new IllegalArgumentException("'" + text + "' is not a time span: expected a number at '"
            + s.substring(numStart) + "' (write e.g. 5s, 500ms, 1min 30s)");
      }
      double number;
      try {
        number = Double.parseDouble(s.substring(numStart, i));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("'" + text + "' is not a time span: bad number '"
            + s.substring(numStart, i) + "'");
      }
      while (i < n && Character.isWhitespace(s.charAt(i))) {
        i++;
      }
      int unitStart = i;
      while (i < n && !Character.isDigit(s.charAt(i)) && !Character.isWhitespace(s.charAt(i))) {
        i++;
      }
      String unit = s.substring(unitStart, i);
      long per;
      if (unit.isEmpty()) {
        per = 1_000_000_000L; // a bare number is seconds
      } else {
        Long p = NANOS_PER_UNIT.get(unit);
        if (p == null) {
          throw new IllegalArgumentException("'" + text + "' is not a time span: unknown unit '" + unit
              + "' (use us, ms, s, min, h, d, w)");
        }
        per = p;
      }
      nanos += (long) (number * per);
    }
    return Duration.ofNanos(nanos);
  }

  /** {@code 5s}, {@code 500ms}, {@code infinity}: for messages. */
  static String format(Duration d) {
    if (d.equals(INFINITY)) {
      return "infinity";
    }
    long ms = d.toMillis();
    return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
  }
}
