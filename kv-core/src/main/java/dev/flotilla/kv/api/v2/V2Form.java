package dev.flotilla.kv.api.v2;

import dev.flotilla.kv.v2.V2Error;
import dev.flotilla.kv.v2.V2ErrorCode;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A request's form, as Go's Request.ParseForm builds it: the url-encoded body's values first,
 * then the query's. Values are byte strings (see {@code V2Path}). Go refuses a ';' separator
 * and a bad %-escape; so do we, with Go's words, which etcd returns as the error cause.
 */
final class V2Form {
  private final Map<String, List<String>> values;

  private V2Form(Map<String, List<String>> values) {
    this.values = values;
  }

  static V2Form parse(String rawQuery, String body) throws V2Error {
    Map<String, List<String>> merged = new LinkedHashMap<>();
    if (body != null) {
      add(merged, body);
    }
    add(merged, rawQuery);
    return new V2Form(merged);
  }

  private static void add(Map<String, List<String>> into, String encoded) throws V2Error {
    if (encoded == null || encoded.isEmpty()) {
      return;
    }
    if (encoded.indexOf(';') >= 0) {
      throw V2Error.request(V2ErrorCode.INVALID_FORM, "invalid semicolon separator in query");
    }
    String bad = firstBadEscape(encoded);
    if (bad != null) {
      throw V2Error.request(V2ErrorCode.INVALID_FORM, "invalid URL escape \"" + bad + "\"");
    }
    var decoder = new QueryStringDecoder(encoded, StandardCharsets.ISO_8859_1, false, 10_000);
    for (var e : decoder.parameters().entrySet()) {
      into.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).addAll(e.getValue());
    }
  }

  /** The first malformed %-escape, as Go quotes it in its error, or null. */
  private static String firstBadEscape(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) == '%') {
        if (i + 2 >= s.length() || !isHex(s.charAt(i + 1)) || !isHex(s.charAt(i + 2))) {
          return s.substring(i, Math.min(s.length(), i + 3));
        }
      }
    }
    return null;
  }

  private static boolean isHex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  boolean has(String key) {
    return values.containsKey(key);
  }

  /** Go's FormValue: the first value, or "". */
  String value(String key) {
    List<String> v = values.get(key);
    return v == null || v.isEmpty() ? "" : v.get(0);
  }

  /** Go's strconv.ParseBool on the first value, when present; {@code null} when absent. */
  Boolean bool(String key, V2ErrorCode code, String cause) throws V2Error {
    if (!values.containsKey(key)) {
      return null;
    }
    return switch (value(key)) {
      case "1", "t", "T", "TRUE", "true", "True" -> true;
      case "0", "f", "F", "FALSE", "false", "False" -> false;
      default -> throw V2Error.request(code, cause);
    };
  }

  boolean flag(String key) throws V2Error {
    Boolean b = bool(key, V2ErrorCode.INVALID_FIELD, "invalid value for \"" + key + "\"");
    return b != null && b;
  }

  /** Go's strconv.ParseUint(v, 10, 64) on the first value when present; 0 when absent. */
  long uint(String key, V2ErrorCode code, String cause) throws V2Error {
    if (!values.containsKey(key)) {
      return 0;
    }
    return parseUint(value(key), code, cause);
  }

  static long parseUint(String v, V2ErrorCode code, String cause) throws V2Error {
    if (v.isEmpty()) {
      throw V2Error.request(code, cause);
    }
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        throw V2Error.request(code, cause);
      }
    }
    try {
      return Long.parseUnsignedLong(v);
    } catch (NumberFormatException e) {
      throw V2Error.request(code, cause);
    }
  }
}
