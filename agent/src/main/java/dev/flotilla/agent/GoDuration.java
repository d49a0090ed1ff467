package dev.flotilla.agent;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * fleet's duration flags are Go's {@code time.Duration} strings: {@code 30s}, {@code 1m30s},
 * {@code 500ms}, {@code 2h}; a bare number is taken as seconds.
 */
final class GoDuration implements CommandLine.ITypeConverter<Duration> {
  private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");

  @Override
  public Duration convert(String value) {
    return parse(value);
  }

  static Duration parse(String value) {
    String v = value.trim();
    if (v.matches("\\d+(\\.\\d+)?")) {
      return Duration.ofNanos((long) (Double.parseDouble(v) * 1e9));
    }
    Matcher m = PART.matcher(v);
    long nanos = 0;
    int at = 0;
    while (at < v.length() && m.find(at) && m.start() == at) {
      double n = Double.parseDouble(m.group(1));
      double unit = switch (m.group(2)) {
        case "ns" -> 1;
        case "us", "µs" -> 1e3;
        case "ms" -> 1e6;
        case "s" -> 1e9;
        case "m" -> 60e9;
        default -> 3600e9;
      };
      nanos += (long) (n * unit);
      at = m.end();
    }
    if (at != v.length() || v.isEmpty()) {
      throw new CommandLine.TypeConversionException("'" + value + "' is not a duration like 30s, 1m30s or 500ms");
    }
    return Duration.ofNanos(nanos);
  }
}
