package dev.flotilla.scheduler.unit;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a setting value into words by systemd's quoting rules (systemd.syntax(7), QUOTING), as
 * systemd does for lists of unit names: words are separated by unquoted blanks; a word may be
 * wrapped in double or single quotes, which are removed, and may then contain blanks; the closing
 * quote must be followed by a blank or the end. A backslash escapes the next character (so
 * {@code \"} does not close a quote and {@code \ } does not split) and is kept, as systemd keeps
 * escapes in unit names ({@code \x2d} must survive). A quote inside an unquoted word is literal.
 *
 * <p>So {@code MachineMetadata="region=us-east-1" "disk=ssd"} is two words, as in fleet, and so is
 * {@code MachineMetadata=region=us-east-1 disk=ssd}, which fleet took as one malformed word and
 * silently ignored.
 */
public final class Words {

  private Words() {}

  /** The words of {@code value}; throws {@link IllegalArgumentException} on an unterminated or misplaced quote. */
  public static List<String> split(String value) {
    List<String> words = new ArrayList<>();
    int i = 0;
    int n = value.length();
    while (true) {
      while (i < n && isBlank(value.charAt(i))) {
        i++;
      }
      if (i == n) {
        return words;
      }
      StringBuilder word = new StringBuilder();
      char c = value.charAt(i);
      if (c == '"' || c == '\'') {
        char quote = c;
        int open = i++;
        boolean closed = false;
        while (i < n) {
          char d = value.charAt(i);
          if (d == '\\' && i + 1 < n) {
            word.append(d).append(value.charAt(i + 1));
            i += 2;
          } else if (d == quote) {
            closed = true;
            i++;
            break;
          } else {
            word.append(d);
            i++;
          }
        }
        if (!closed) {
          throw new IllegalArgumentException("unterminated " + quoteName(quote) + " quote starting at column "
              + (open + 1) + " of '" + value + "'");
        }
        if (i < n && !isBlank(value.charAt(i))) {
          throw new IllegalArgumentException("closing " + quoteName(quote) + " quote at column " + i + " of '"
              + value + "' must be followed by a blank or the end");
        }
      } else {
        while (i < n && !isBlank(value.charAt(i))) {
          char d = value.charAt(i);
          if (d == '\\' && i + 1 < n) {
            word.append(d).append(value.charAt(i + 1));
            i += 2;
          } else {
            word.append(d);
            i++;
          }
        }
      }
      words.add(word.toString());
    }
  }

  private static boolean isBlank(char c) {
    return c == ' ' || c == '\t';
  }

  private static String quoteName(char quote) {
    return quote == '"' ? "double" : "single";
  }
}
