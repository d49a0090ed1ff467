package dev.flotilla.kv.v2;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * v2 key paths. Paths and values travel through the store as <em>byte strings</em>: Java
 * strings whose chars are the raw bytes (0–255) the client sent, so that keys which are not
 * UTF-8 are kept byte-exact, as etcd keeps them, and sort bytewise. They become text only
 * when written as JSON ({@link #toText}).
 */
public final class V2Path {
  /** Internal key prefix of the v2 keyspace inside the MVCC store (v3 keys use another). */
  public static final byte KEYSPACE = dev.flotilla.kv.mvcc.MvccStore.UNVERSIONED_KEYSPACE;

  private V2Path() {}

  /** Go's path.Clean applied to "/" + p: absolute, no empty, "." or ".." elements. */
  public static String clean(String p) {
    if (isClean(p)) {
      return p;
    }
    List<String> out = new ArrayList<>();
    for (String part : p.split("/", -1)) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        if (!out.isEmpty()) {
          out.remove(out.size() - 1);
        }
        continue;
      }
      out.add(part);
    }
    return out.isEmpty() ? "/" : "/" + String.join("/", out);
  }

  /** True when {@link #clean} would return {@code p} unchanged (the common case, checked fast). */
  static boolean isClean(String p) {
    int n = p.length();
    if (n == 0 || p.charAt(0) != '/') {
      return false;
    }
    if (n == 1) {
      return true;
    }
    if (p.charAt(n - 1) == '/') {
      return false;
    }
    int segStart = 1;
    for (int i = 1; i <= n; i++) {
      if (i == n || p.charAt(i) == '/') {
        int len = i - segStart;
        if (len == 0) {
          return false;
        }
        if (p.charAt(segStart) == '.' && (len == 1 || (len == 2 && p.charAt(segStart + 1) == '.'))) {
          return false;
        }
        segStart = i + 1;
      }
    }
    return true;
  }

  /** The parent directory path of a clean path ("/" for top-level keys). */
  public static String parent(String clean) {
    int i = clean.lastIndexOf('/');
    return i <= 0 ? "/" : clean.substring(0, i);
  }

  public static String name(String clean) {
    return clean.substring(clean.lastIndexOf('/') + 1);
  }

  public static boolean isHiddenName(String clean) {
    String n = name(clean);
    return !n.isEmpty() && n.charAt(0) == '_';
  }

  /** The store key of a clean path. */
  public static byte[] key(String clean) {
    byte[] b = clean.getBytes(StandardCharsets.ISO_8859_1);
    byte[] k = new byte[b.length + 1];
    k[0] = KEYSPACE;
    System.arraycopy(b, 0, k, 1, b.length);
    return k;
  }

  /** The store key prefix of the children of directory {@code clean}. */
  public static byte[] childPrefix(String clean) {
    return key(clean.equals("/") ? "/" : clean + "/");
  }

  /** The path of a store key. */
  public static String fromKey(byte[] key) {
    return new String(key, 1, key.length - 1, StandardCharsets.ISO_8859_1);
  }

  /** A byte string as text, invalid UTF-8 replaced by U+FFFD as Go's JSON encoder does. */
  public static String toText(String byteString) {
    for (int i = 0; i < byteString.length(); i++) {
      if (byteString.charAt(i) >= 0x80) {
        return new String(byteString.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
      }
    }
    return byteString;
  }

  /** Text as a byte string (UTF-8 bytes, one char each). */
  public static String fromText(String text) {
    return new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
  }
}
