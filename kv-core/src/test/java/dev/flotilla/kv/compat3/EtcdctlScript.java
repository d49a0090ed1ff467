package dev.flotilla.kv.compat3;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A script of {@code ETCDCTL_API=3 etcdctl} commands (a test resource), one per line:
 * <pre>
 * # a comment
 * put foo bar                       run it, record exit code, stdout, stderr
 * txn -w json &lt;&lt;EOF                 stdin follows, up to a line "EOF"
 * bg w1: watch live --prefix        start it in the background as "w1"
 * join w1 6                         wait for 6 lines of w1's stdout (at most 10 s), kill it, record
 * until ^$ :: get lk                repeat (at most 10 s) until stdout matches the regex, record the last
 * </pre>
 * Arguments split like a shell's words (single and double quotes). {@code ${R+n}} is the
 * session's start revision plus n; {@code ${REV}} its revision now; {@code ${L1}} the first lease
 * granted in the session (hex).
 */
record EtcdctlScript(List<Step> steps) {

  /** One line of the script. {@code text} is the line as written: it names the step in reports. */
  record Step(int line, String text, Kind kind, String name, List<String> args, String stdin, String until,
      int lines) {
  }

  enum Kind { RUN, BACKGROUND, JOIN, UNTIL }

  static EtcdctlScript load(String resource) {
    try (InputStream in = EtcdctlScript.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource " + resource);
      }
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static EtcdctlScript parse(String text) {
    String[] lines = text.split("\n", -1);
    List<Step> steps = new ArrayList<>();
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      int lineNo = i + 1;
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String stdin = null;
      String cmd = line;
      if (line.endsWith("<<EOF")) {
        cmd = line.substring(0, line.length() - "<<EOF".length()).strip();
        StringBuilder in = new StringBuilder();
        i++;
        while (i < lines.length && !lines[i].equals("EOF")) {
          in.append(lines[i]).append('\n');
          i++;
        }
        if (i == lines.length) {
          throw new IllegalArgumentException("line " + lineNo + ": <<EOF without a closing EOF line");
        }
        stdin = in.toString();
      }
      if (cmd.startsWith("bg ")) {
        int colon = cmd.indexOf(':');
        String name = cmd.substring(3, colon).strip();
        steps.add(new Step(lineNo, line, Kind.BACKGROUND, name, words(cmd.substring(colon + 1)), stdin, null, 0));
      } else if (cmd.startsWith("join ")) {
        List<String> w = words(cmd.substring(5));
        steps.add(new Step(lineNo, line, Kind.JOIN, w.get(0), List.of(), null, null, Integer.parseInt(w.get(1))));
      } else if (cmd.startsWith("until ")) {
        int sep = cmd.indexOf(" :: ");
        steps.add(new Step(lineNo, line, Kind.UNTIL, null, words(cmd.substring(sep + 4)), stdin,
            cmd.substring(6, sep).strip(), 0));
      } else {
        steps.add(new Step(lineNo, line, Kind.RUN, null, words(cmd), stdin, null, 0));
      }
    }
    return new EtcdctlScript(steps);
  }

  /** Shell-like words: whitespace separates, quotes group (and are removed). */
  static List<String> words(String s) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean inWord = false;
    char quote = 0;
    for (char c : s.toCharArray()) {
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        } else {
          cur.append(c);
        }
      } else if (c == '\'' || c == '"') {
        quote = c;
        inWord = true;
      } else if (Character.isWhitespace(c)) {
        if (inWord) {
          out.add(cur.toString());
          cur.setLength(0);
          inWord = false;
        }
      } else {
        cur.append(c);
        inWord = true;
      }
    }
    if (quote != 0) {
      throw new IllegalArgumentException("unclosed quote in: " + s);
    }
    if (inWord) {
      out.add(cur.toString());
    }
    return out;
  }
}
