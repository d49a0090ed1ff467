package dev.flotilla.kv.api.v3;

/**
 * The words etcd's gateway (Go's encoding/json and encoding/base64 under grpc-gateway) uses for
 * a body it cannot read, so that kvd's JSON errors read the same: "invalid character 'g'
 * looking for beginning of value", "unexpected EOF", "illegal base64 data at input byte 2".
 * Only the first JSON value of a body counts, as for Go's json.Decoder.
 */
final class GoJson {
  private final String s;
  private int i;

  private GoJson(String s) {
    this.s = s;
  }

  /** Thrown with Go's message. */
  static final class SyntaxError extends Exception {
    SyntaxError(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * Go's complaint about {@code body}, or null when its first value is well-formed JSON (or the
   * body is empty, which the gateway takes as an empty request).
   */
  static String syntaxError(String body) {
    GoJson p = new GoJson(body == null ? "" : body);
    p.skipSpace();
    if (p.i == p.s.length()) {
      return null;
    }
    try {
      char first = p.s.charAt(p.i);
      p.value();
      return switch (first) {
        case '{', 'n' -> null;
        case '[' -> "json: cannot unmarshal array into Go value of type map[string]json.RawMessage";
        case '"' -> "json: cannot unmarshal string into Go value of type map[string]json.RawMessage";
        case 't', 'f' -> "json: cannot unmarshal bool into Go value of type map[string]json.RawMessage";
        default -> "json: cannot unmarshal number into Go value of type map[string]json.RawMessage";
      };
    } catch (SyntaxError e) {
      return e.getMessage();
    }
  }

  /** Go's base64.StdEncoding complaint about {@code text}, or null when it decodes. */
  static String base64Error(String text) {
    int n = text.length();
    int si = 0;
    while (true) {
      int j = 0;
      for (; j < 4; j++) {
        if (si == n) {
          if (j == 0) {
            return null;
          }
          return illegal(si - j);
        }
        char in = text.charAt(si++);
        if (isBase64(in)) {
          continue;
        }
        if (in == '\n' || in == '\r') {
          j--;
          continue;
        }
        if (in != '=') {
          return illegal(si - 1);
        }
        if (j < 2) {
          return illegal(si - 1);
        }
        if (j == 2) {
          si = skipNewlines(text, si);
          if (si == n) {
            return illegal(n);
          }
          if (text.charAt(si) != '=') {
            return illegal(si - 1);
          }
          si++;
        }
        si = skipNewlines(text, si);
        return si < n ? illegal(si) : null;
      }
    }
  }

  private static int skipNewlines(String t, int si) {
    while (si < t.length() && (t.charAt(si) == '\n' || t.charAt(si) == '\r')) {
      si++;
    }
    return si;
  }

  private static boolean isBase64(char c) {
    return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/';
  }

  private static String illegal(int at) {
    return "illegal base64 data at input byte " + at;
  }

  private void skipSpace() {
    while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) {
      i++;
    }
  }

  private char next() throws SyntaxError {
    skipSpace();
    if (i == s.length()) {
      throw new SyntaxError("unexpected EOF");
    }
    return s.charAt(i);
  }

  private static SyntaxError invalid(char c, String context) {
    return new SyntaxError("invalid character " + quote(c) + " " + context);
  }

  /** Go's quoteChar. */
  static String quote(char c) {
    if (c == '\'') {
      return "'\\''";
    }
    if (c == '"') {
      return "'\"'";
    }
    if (c < 0x20 || c == 0x7f) {
      return String.format("'\\x%02x'", (int) c);
    }
    return "'" + c + "'";
  }

  private void value() throws SyntaxError {
    char c = next();
    switch (c) {
      case '{' -> object();
      case '[' -> array();
      case '"' -> string();
      case 't' -> literal("true");
      case 'f' -> literal("false");
      case 'n' -> literal("null");
      default -> {
        if (c == '-' || c >= '0' && c <= '9') {
          number();
        } else {
          throw invalid(c, "looking for beginning of value");
        }
      }
    }
  }

  private void object() throws SyntaxError {
    i++; // {
    char c = next();
    if (c == '}') {
      i++;
      return;
    }
    while (true) {
      c = next();
      if (c != '"') {
        throw invalid(c, "looking for beginning of object key string");
      }
      string();
      c = next();
      if (c != ':') {
        throw invalid(c, "after object key");
      }
      i++;
      value();
      c = next();
      if (c == ',') {
        i++;
      } else if (c == '}') {
        i++;
        return;
      } else {
        throw invalid(c, "after object key:value pair");
      }
    }
  }

  private void array() throws SyntaxError {
    i++; // [
    char c = next();
    if (c == ']') {
      i++;
      return;
    }
    while (true) {
      value();
      c = next();
      if (c == ',') {
        i++;
      } else if (c == ']') {
        i++;
        return;
      } else {
        throw invalid(c, "after array element");
      }
    }
  }

  private void string() throws SyntaxError {
    i++; // "
    while (true) {
      if (i == s.length()) {
        throw new SyntaxError("unexpected EOF");
      }
      char c = s.charAt(i++);
      if (c == '"') {
        return;
      }
      if (c < 0x20) {
        throw invalid(c, "in string literal");
      }
      if (c == '\\') {
        if (i == s.length()) {
          throw new SyntaxError("unexpected EOF");
        }
        char e = s.charAt(i++);
        if (e == 'u') {
          for (int k = 0; k < 4; k++) {
            if (i == s.length()) {
              throw new SyntaxError("unexpected EOF");
            }
            char h = s.charAt(i++);
            if (Character.digit(h, 16) < 0) {
              throw invalid(h, "in \\u hexadecimal character escape");
            }
          }
        } else if ("\"\\/bfnrt".indexOf(e) < 0) {
          throw invalid(e, "in string escape code");
        }
      }
    }
  }

  private void literal(String word) throws SyntaxError {
    for (int k = 0; k < word.length(); k++) {
      if (i == s.length()) {
        throw new SyntaxError("unexpected EOF");
      }
      char c = s.charAt(i++);
      if (c != word.charAt(k)) {
        throw invalid(c, "in literal " + word + " (expecting " + quote(word.charAt(k)) + ")");
      }
    }
  }

  private void number() throws SyntaxError {
    if (s.charAt(i) == '-') {
      i++;
      if (i == s.length()) {
        throw new SyntaxError("unexpected EOF");
      }
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        throw invalid(c, "in numeric literal");
      }
    }
    if (s.charAt(i) == '0') {
      i++;
    } else {
      digits();
    }
    if (i < s.length() && s.charAt(i) == '.') {
      i++;
      if (i == s.length()) {
        throw new SyntaxError("unexpected EOF");
      }
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        throw invalid(c, "after decimal point in numeric literal");
      }
      digits();
    }
    if (i < s.length() && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
      i++;
      if (i < s.length() && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
        i++;
      }
      if (i == s.length()) {
        throw new SyntaxError("unexpected EOF");
      }
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        throw invalid(c, "in exponent of numeric literal");
      }
      digits();
    }
  }

  private void digits() {
    while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
      i++;
    }
  }
}
