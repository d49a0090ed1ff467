package dev.flotilla.kv.compat3;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Differences kvd has on purpose, each with its reason: a test resource of lines
 * {@code <step as written> || <reason>}. Only the kvd comparison consults it; the etcd control
 * must match exactly.
 */
final class AllowList3 {
  private final Map<String, String> reasons;

  private AllowList3(Map<String, String> reasons) {
    this.reasons = reasons;
  }

  static AllowList3 load(String resource) {
    Map<String, String> m = new LinkedHashMap<>();
    try (InputStream in = AllowList3.class.getResourceAsStream(resource)) {
      if (in != null) {
        for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
          String l = line.strip();
          if (l.isEmpty() || l.startsWith("#")) {
            continue;
          }
          int sep = l.indexOf("||");
          if (sep < 0) {
            throw new IllegalArgumentException(resource + ": no '||' before the reason in: " + l);
          }
          m.put(l.substring(0, sep).strip(), l.substring(sep + 2).strip());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new AllowList3(m);
  }

  static AllowList3 none() {
    return new AllowList3(Map.of());
  }

  /** The reason the step may differ, or null. */
  String reason(String step) {
    return reasons.get(step);
  }

  Map<String, String> entries() {
    return reasons;
  }
}
