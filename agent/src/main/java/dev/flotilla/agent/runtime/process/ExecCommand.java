package dev.flotilla.agent.runtime.process;

import dev.flotilla.scheduler.unit.Words;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One {@code Exec*=} line of a service: the setting it came from, its words (quotes removed,
 * backslash escapes and {@code $VARIABLES} still in) and whether its failure is ignored (the
 * {@code -} prefix). Specifiers ({@code %n %i}) are expanded when the unit is loaded, variables
 * when the command is about to run, as systemd does.
 */
record ExecCommand(String setting, String raw, boolean ignoreFailure, List<String> words) {

  /** Where systemd looks for a command given without a path. */
  static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  /**
   * Parses the value of {@code setting} ({@code ExecStart} …), already specifier-expanded; throws
   * {@link IllegalArgumentException} with a message that names the setting.
   */
  static ExecCommand parse(String setting, String value) {
    String where = setting + "=" + value;
    int i = 0;
    boolean ignore = false;
    while (i < value.length() && "-@+!:".indexOf(value.charAt(i)) >= 0) {
      char prefix = value.charAt(i);
      if (prefix != '-') {
        throw new IllegalArgumentException(where + ": the '" + prefix + "' prefix is not supported by the "
            + "process runtime (only '-', to ignore a failure); remove it or run the unit with --runtime=systemd");
      }
      ignore = true;
      i++;
    }
    List<String> words;
    try {
      words = Words.split(value.substring(i));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": " + e.getMessage());
    }
    if (words.isEmpty() || words.get(0).isEmpty()) {
      throw new IllegalArgumentException(where + ": no command to run");
    }
    String first = words.get(0);
    if (first.indexOf('/') >= 0 && !first.startsWith("/") && !first.startsWith("$")) {
      throw new IllegalArgumentException(where + ": the command must be an absolute path or a plain name "
          + "looked up in PATH, not the relative path '" + first + "'");
    }
    return new ExecCommand(setting, value, ignore, List.copyOf(words));
  }

  /** {@code ExecStart=/bin/x arg}: how messages name this command. */
  String describe() {
    return setting + "=" + raw;
  }

  /**
   * The argument vector to run with {@code env}: {@code ${NAME}} and {@code $NAME} inside a word
   * become the value; a word that is only {@code $NAME} becomes the value's blank-separated words
   * (none if unset or empty); {@code $$} is a literal {@code $}; then C escapes are resolved.
   */
  List<String> argv(Map<String, String> env) {
    List<String> out = new ArrayList<>(words.size());
    for (String w : words) {
      if (w.length() > 1 && w.charAt(0) == '$' && isName(w, 1, w.length())) {
        for (String part : env.getOrDefault(w.substring(1), "").split("[ \t\n]+")) {
          if (!part.isEmpty()) {
            out.add(part);
          }
        }
      } else {
        out.add(unescape(expandVariables(w, env)));
      }
    }
    return out;
  }

  /**
   * The executable {@code argv0} names: itself when absolute, else the first executable file of
   * that name in {@code path}. Throws {@link IllegalArgumentException} with the errno-like reason.
   */
  static Path resolve(String argv0, String path) {
    if (argv0.startsWith("/")) {
      Path p = Path.of(argv0);
      if (!Files.exists(p)) {
        throw new IllegalArgumentException("No such file or directory");
      }
      if (Files.isDirectory(p) || !Files.isExecutable(p)) {
        throw new IllegalArgumentException("Permission denied (not an executable file)");
      }
      return p;
    }
    if (argv0.indexOf('/') >= 0) {
      throw new IllegalArgumentException("relative path '" + argv0 + "': use an absolute path");
    }
    for (String dir : (path == null || path.isEmpty() ? DEFAULT_PATH : path).split(":")) {
      if (dir.isEmpty()) {
        continue;
      }
      Path p = Path.of(dir, argv0);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return p;
      }
    }
    throw new IllegalArgumentException("No such file or directory (not found in PATH=" + path + ")");
  }

  private static String expandVariables(String w, Map<String, String> env) {
    if (w.indexOf('$') < 0) {
      return w;
    }
    StringBuilder sb = new StringBuilder(w.length() + 16);
    int i = 0;
    while (i < w.length()) {
      char c = w.charAt(i);
      if (c == '\\' && i + 1 < w.length()) {
        sb.append(c).append(w.charAt(i + 1)); // an escaped '$' stays literal
        i += 2;
      } else if (c == '$' && i + 1 < w.length() && w.charAt(i + 1) == '$') {
        sb.append("\\x24"); // literal '$', kept escaped until unescape
        i += 2;
      } else if (c == '$' && i + 1 < w.length() && w.charAt(i + 1) == '{') {
        int close = w.indexOf('}', i + 2);
        if (close < 0 || !isName(w, i + 2, close)) {
          sb.append(c);
          i++;
        } else {
          sb.append(escapeBackslashes(env.getOrDefault(w.substring(i + 2, close), "")));
          i = close + 1;
        }
      } else if (c == '$' && i + 1 < w.length() && isNameStart(w.charAt(i + 1))) {
        int end = i + 1;
        while (end < w.length() && isNameChar(w.charAt(end))) {
          end++;
        }
        sb.append(escapeBackslashes(env.getOrDefault(w.substring(i + 1, end), "")));
        i = end;
      } else {
        sb.append(c);
        i++;
      }
    }
    return sb.toString();
  }

  /** A variable's value is taken literally: protect its backslashes from {@link #unescape}. */
  private static String escapeBackslashes(String s) {
    return s.replace("\\", "\\\\");
  }

  /** Resolves the C escapes systemd resolves in command lines ({@code \\ \" \' \n \t \xNN} …). */
  static String unescape(String w) {
    if (w.indexOf('\\') < 0) {
      return w;
    }
    StringBuilder sb = new StringBuilder(w.length());
    for (int i = 0; i < w.length(); i++) {
      char c = w.charAt(i);
      if (c != '\\' || i + 1 == w.length()) {
        sb.append(c);
        continue;
      }
      char e = w.charAt(++i);
      switch (e) {
        case 'n' -> sb.append('\n');
        case 't' -> sb.append('\t');
        case 'r' -> sb.append('\r');
        case 'a' -> sb.append('\u0007');
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'v' -> sb.append('\u000b');
        case 's' -> sb.append(' ');
        case 'x' -> {
          if (isHex(w, i + 1, i + 3)) {
            sb.append((char) Integer.parseInt(w.substring(i + 1, i + 3), 16));
            i += 2;
          } else {
            sb.append('\\').append(e);
          }
        }
        default -> sb.append(e); // \\ \" \' \; \$ and anything else: the character itself
      }
    }
    return sb.toString();
  }

  private static boolean isHex(String s, int from, int to) {
    if (to > s.length()) {
      return false;
    }
    for (int i = from; i < to; i++) {
      if (Character.digit(s.charAt(i), 16) < 0) {
        return false;
      }
    }
    return true;
  }

  private static boolean isName(String s, int from, int to) {
    if (from >= to || !isNameStart(s.charAt(from))) {
      return false;
    }
    for (int i = from + 1; i < to; i++) {
      if (!isNameChar(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  private static boolean isNameStart(char c) {
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  }

  private static boolean isNameChar(char c) {
    return isNameStart(c) || (c >= '0' && c <= '9');
  }
}
