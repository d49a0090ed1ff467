package dev.flotilla.scheduler.fleet;

import java.util.ArrayList;
import java.util.List;

/**
 * A unit-name pattern for {@code Conflicts=} and {@code Replaces=}, with the syntax of Go's
 * {@code path.Match}, which fleet used: {@code *} any run of characters, {@code ?} one character,
 * {@code [abc]}, {@code [a-z]}, {@code [^a-z]} classes, {@code \} escapes the next character.
 * (Go's {@code *} and {@code ?} stop at {@code /}; unit names never contain one.)
 *
 * <p>fleet treated a malformed pattern as matching nothing and only logged it; {@link #compile}
 * refuses it, so the mistake is reported at submit.
 */
public final class Glob {

  private final String pattern;
  private final Token[] tokens;
  // the common shapes, matched without the general loop: "name", "prefix*", "prefix*suffix"
  private final String literal; // non-null when the pattern has no metacharacters
  private final String prefix;  // non-null (with suffix) when the pattern is text, one '*', text
  private final String suffix;
  private final String literalPrefix; // what every matching name starts with

  private Glob(String pattern, Token[] tokens) {
    this.pattern = pattern;
    this.tokens = tokens;
    int lead = 0;
    while (lead < tokens.length && tokens[lead].kind == Kind.LITERAL) {
      lead++;
    }
    this.literalPrefix = literalOf(tokens, 0, lead);
    this.literal = literalOf(tokens, 0, tokens.length);
    int star = -1;
    int stars = 0;
    for (int i = 0; i < tokens.length; i++) {
      if (tokens[i].kind == Kind.STAR) {
        star = i;
        stars++;
      }
    }
    String p = null;
    String q = null;
    if (stars == 1) {
      p = literalOf(tokens, 0, star);
      q = literalOf(tokens, star + 1, tokens.length);
      if (p == null || q == null) {
        p = null;
        q = null;
      }
    }
    this.prefix = p;
    this.suffix = q;
  }

  /** Compiles {@code pattern}; throws {@link IllegalArgumentException} saying what is malformed. */
  public static Glob compile(String pattern) {
    if (pattern.isEmpty()) {
      throw new IllegalArgumentException("empty pattern");
    }
    List<Token> tokens = new ArrayList<>();
    int i = 0;
    int n = pattern.length();
    while (i < n) {
      char c = pattern.charAt(i);
      switch (c) {
        case '*' -> {
          if (tokens.isEmpty() || tokens.get(tokens.size() - 1).kind != Kind.STAR) {
            tokens.add(Token.STAR);
          }
          i++;
        }
        case '?' -> {
          tokens.add(Token.ANY);
          i++;
        }
        case '\\' -> {
          if (i + 1 == n) {
            throw new IllegalArgumentException("'" + pattern + "' ends with an unescaped backslash");
          }
          tokens.add(Token.literal(pattern.charAt(i + 1)));
          i += 2;
        }
        case '[' -> i = parseClass(pattern, i, tokens);
        default -> {
          tokens.add(Token.literal(c));
          i++;
        }
      }
    }
    return new Glob(pattern, tokens.toArray(new Token[0]));
  }

  private static int parseClass(String p, int open, List<Token> out) {
    int i = open + 1;
    int n = p.length();
    boolean negated = i < n && p.charAt(i) == '^';
    if (negated) {
      i++;
    }
    List<char[]> ranges = new ArrayList<>();
    while (true) {
      if (i >= n) {
        throw new IllegalArgumentException("'" + p + "': unclosed '[' at column " + (open + 1));
      }
      char c = p.charAt(i);
      if (c == ']' && !ranges.isEmpty()) {
        out.add(Token.charClass(negated, ranges));
        return i + 1;
      }
      if (c == ']' || c == '-') {
        throw new IllegalArgumentException("'" + p + "': '" + c + "' at column " + (i + 1)
            + " must be escaped inside [...] (a class is never empty)");
      }
      int[] lo = classChar(p, i, open);
      int[] hi = lo;
      i = lo[1];
      if (i < n && p.charAt(i) == '-') {
        if (i + 1 >= n || p.charAt(i + 1) == ']' || p.charAt(i + 1) == '-') {
          throw new IllegalArgumentException("'" + p + "': incomplete range at column " + (i + 1));
        }
        hi = classChar(p, i + 1, open);
        i = hi[1];
      }
      ranges.add(new char[] {(char) lo[0], (char) hi[0]});
    }
  }

  /** {char, next index}, resolving a backslash escape. */
  private static int[] classChar(String p, int i, int open) {
    char c = p.charAt(i);
    if (c == '\\') {
      if (i + 1 >= p.length()) {
        throw new IllegalArgumentException("'" + p + "': unclosed '[' at column " + (open + 1));
      }
      return new int[] {p.charAt(i + 1), i + 2};
    }
    return new int[] {c, i + 1};
  }

  private static String literalOf(Token[] tokens, int from, int to) {
    StringBuilder sb = new StringBuilder(to - from);
    for (int i = from; i < to; i++) {
      if (tokens[i].kind != Kind.LITERAL) {
        return null;
      }
      sb.append(tokens[i].lo);
    }
    return sb.toString();
  }

  public String pattern() {
    return pattern;
  }

  /** Whether the pattern is plain text (matches exactly one name). */
  /**
   * The text before the first wildcard: every name this glob matches starts with it (empty when
   * the pattern starts with one). Lets callers index names instead of trying every glob on every name.
   */
  public String literalPrefix() {
    return literalPrefix;
  }

  public boolean isLiteral() {
    return literal != null;
  }

  public boolean matches(String name) {
    if (literal != null) {
      return literal.equals(name);
    }
    if (prefix != null) {
      return name.length() >= prefix.length() + suffix.length() && name.startsWith(prefix) && name.endsWith(suffix);
    }
    // Classic wildcard matching with one backtrack point: the last '*' seen absorbs one more char.
    int t = 0;
    int s = 0;
    int starT = -1;
    int starS = -1;
    int n = name.length();
    while (s < n) {
      if (t < tokens.length && tokens[t].kind == Kind.STAR) {
        starT = t++;
        starS = s;
      } else if (t < tokens.length && tokens[t].matches(name.charAt(s))) {
        t++;
        s++;
      } else if (starT >= 0) {
        t = starT + 1;
        s = ++starS;
      } else {
        return false;
      }
    }
    while (t < tokens.length && tokens[t].kind == Kind.STAR) {
      t++;
    }
    return t == tokens.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Glob g && g.pattern.equals(pattern);
  }

  @Override
  public int hashCode() {
    return pattern.hashCode();
  }

  @Override
  public String toString() {
    return pattern;
  }

  private enum Kind { LITERAL, ANY, STAR, CLASS }

  private static final class Token {
    static final Token STAR = new Token(Kind.STAR, '\0', false, null);
    static final Token ANY = new Token(Kind.ANY, '\0', false, null);

    final Kind kind;
    final char lo;
    final boolean negated;
    final char[][] ranges;

    private Token(Kind kind, char lo, boolean negated, char[][] ranges) {
      this.kind = kind;
      this.lo = lo;
      this.negated = negated;
      this.ranges = ranges;
    }

    static Token literal(char c) {
      return new Token(Kind.LITERAL, c, false, null);
    }

    static Token charClass(boolean negated, List<char[]> ranges) {
      return new Token(Kind.CLASS, '\0', negated, ranges.toArray(new char[0][]));
    }

    boolean matches(char c) {
      return switch (kind) {
        case LITERAL -> c == lo;
        case ANY -> true;
        case STAR -> false;
        case CLASS -> {
          boolean in = false;
          for (char[] r : ranges) {
            if (r[0] <= c && c <= r[1]) {
              in = true;
              break;
            }
          }
          yield in != negated;
        }
      };
    }
  }
}
