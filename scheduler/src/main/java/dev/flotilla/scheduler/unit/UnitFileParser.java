package dev.flotilla.scheduler.unit;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads unit file text the way systemd's {@code config_parse} does (systemd.syntax(7)):
 *
 * <ul>
 *   <li>lines end at {@code \n}, {@code \r\n} or a lone {@code \r}; a UTF-8 byte order mark at the
 *       start is skipped;</li>
 *   <li>a line whose first non-blank character is {@code #} or {@code ;} is a comment, even in the
 *       middle of a continued line (systemd ignores such comment blocks; fleet's go-systemd parser
 *       did not);</li>
 *   <li>a line ending in an odd number of backslashes continues on the next line; the last
 *       backslash becomes a space and the next line is appended as it is, so blanks inside a
 *       continued value are kept. An empty line ends a continuation;</li>
 *   <li>{@code [Name]} opens a section; sections may repeat, and their options accumulate;</li>
 *   <li>{@code Key=Value}: blanks (space, tab) around the key and the value are removed; the value
 *       is kept raw (quotes and escapes mean something only to the setting that reads them);</li>
 *   <li>no line may be longer than 1 MiB once continued (systemd's {@code LONG_LINE_MAX}).</li>
 * </ul>
 *
 * <p>Where systemd merely warns and ignores, this parser refuses, so that nothing the user wrote is
 * silently dropped: text before the first section, an empty section name, an empty key. A value
 * ending in a backslash followed by blanks is refused too (systemd would read a literal backslash,
 * which no canonical line can express).
 */
public final class UnitFileParser {

  /** systemd's LONG_LINE_MAX. */
  public static final int MAX_LINE = 1024 * 1024;

  private UnitFileParser() {}

  public static UnitFile parse(String text) {
    List<UnitOption> options = new ArrayList<>();
    String section = null;
    StringBuilder continuation = null;
    int continuationStart = 0;
    int lineNo = 0;
    int pos = text.startsWith("\uFEFF") ? 1 : 0;
    int length = text.length();
    while (pos < length) {
      int end = pos;
      while (end < length && text.charAt(end) != '\n' && text.charAt(end) != '\r') {
        end++;
      }
      String line = text.substring(pos, end);
      if (end + 1 < length && text.charAt(end) == '\r' && text.charAt(end + 1) == '\n') {
        pos = end + 2;
      } else {
        pos = Math.min(end + 1, length);
      }
      lineNo++;
      int nul = line.indexOf('\0');
      if (nul >= 0) {
        throw new UnitFileSyntaxException(lineNo, "NUL character at column " + (nul + 1));
      }
      String trimmedStart = Blanks.stripLeading(line);
      if (!trimmedStart.isEmpty() && (trimmedStart.charAt(0) == '#' || trimmedStart.charAt(0) == ';')) {
        continue; // a comment, also inside a continuation
      }
      int start;
      StringBuilder logical;
      if (continuation != null) {
        logical = continuation.append(line);
        start = continuationStart;
      } else {
        logical = new StringBuilder(line);
        start = lineNo;
      }
      if (logical.length() > MAX_LINE) {
        throw new UnitFileSyntaxException(start, "line longer than " + MAX_LINE + " characters");
      }
      if (Blanks.endsWithOddBackslashes(logical)) {
        logical.setCharAt(logical.length() - 1, ' ');
        continuation = logical;
        continuationStart = start;
        continue;
      }
      continuation = null;
      section = parseLine(logical.toString(), start, section, options);
    }
    if (continuation != null) {
      parseLine(continuation.toString(), continuationStart, section, options);
    }
    return UnitFile.of(options);
  }

  /** Parses one logical line; returns the section in effect after it. */
  private static String parseLine(String raw, int lineNo, String section, List<UnitOption> out) {
    String l = Blanks.strip(raw);
    if (l.isEmpty() || l.charAt(0) == '#' || l.charAt(0) == ';') {
      return section;
    }
    if (l.charAt(0) == '[') {
      if (l.length() < 2 || l.charAt(l.length() - 1) != ']') {
        throw new UnitFileSyntaxException(lineNo, "invalid section header '" + l + "': it must end with ']'");
      }
      String name = l.substring(1, l.length() - 1);
      if (name.isEmpty()) {
        throw new UnitFileSyntaxException(lineNo, "empty section name '[]'");
      }
      return name;
    }
    if (section == null) {
      throw new UnitFileSyntaxException(lineNo,
          "'" + abbreviate(l) + "' comes before any section: start the file with a header such as [Unit]");
    }
    int eq = l.indexOf('=');
    if (eq < 0) {
      if (l.startsWith(".include")) {
        throw new UnitFileSyntaxException(lineNo, ".include is not supported (systemd dropped it too); use a drop-in");
      }
      throw new UnitFileSyntaxException(lineNo, "missing '=' in '" + abbreviate(l) + "'");
    }
    String key = Blanks.strip(l.substring(0, eq));
    String value = Blanks.strip(l.substring(eq + 1));
    if (key.isEmpty()) {
      throw new UnitFileSyntaxException(lineNo, "empty option name before '=' in '" + abbreviate(l) + "'");
    }
    if (Blanks.endsWithOddBackslashes(value)) {
      throw new UnitFileSyntaxException(lineNo, "value of " + key + " ends with a backslash followed by blanks; "
          + "remove the blanks to continue the line, or write \\\\ for a literal backslash");
    }
    out.add(new UnitOption(section, key, value));
    return section;
  }

  private static String abbreviate(String s) {
    return s.length() <= 60 ? s : s.substring(0, 57) + "...";
  }
}
