package dev.flotilla.kv.api.v2;

import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/** The Date header value, formatted once per second (it changes no faster). */
final class HttpDate {
  private static volatile long cachedSecond;
  private static volatile String cached = "";
  private static final DateTimeFormatter FORMAT =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", java.util.Locale.US);

  private HttpDate() {}

  static String now() {
    long sec = System.currentTimeMillis() / 1000;
    if (sec != cachedSecond) {
      cached = FORMAT.format(
          ZonedDateTime.ofInstant(java.time.Instant.ofEpochSecond(sec), ZoneOffset.UTC));
      cachedSecond = sec;
    }
    return cached;
  }
}
