package dev.flotilla.scheduler.unit;

/** systemd's notion of blanks in unit files: space and tab only (its {@code WHITESPACE} less line ends). */
final class Blanks {

  private Blanks() {}

  static boolean isBlank(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  }

  /** Like systemd's {@code strstrip}: removes blanks at both ends, nothing else (not \f, not \v). */
  static String strip(String s) {
    int start = 0;
    int end = s.length();
    while (start < end && isBlank(s.charAt(start))) {
      start++;
    }
    while (end > start && isBlank(s.charAt(end - 1))) {
      end--;
    }
    return s.substring(start, end);
  }

  static String stripLeading(String s) {
    int start = 0;
    while (start < s.length() && isBlank(s.charAt(start))) {
      start++;
    }
    return s.substring(start);
  }

  /** Whether the string ends in an odd run of backslashes: the last one is not itself escaped. */
  static boolean endsWithOddBackslashes(CharSequence s) {
    int n = 0;
    for (int i = s.length() - 1; i >= 0 && s.charAt(i) == '\\'; i--) {
      n++;
    }
    return n % 2 == 1;
  }
}
