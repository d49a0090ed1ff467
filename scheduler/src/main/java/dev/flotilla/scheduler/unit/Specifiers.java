package dev.flotilla.scheduler.unit;

import java.util.Map;
import java.util.function.Supplier;

/**
 * The specifiers fleet expands in [X-Fleet] values, with systemd's meanings (systemd.unit(5)):
 * {@code %n} full unit name, {@code %N} the name without type suffix, {@code %p} the prefix
 * (before the first {@code @}), {@code %i} the instance (empty for plain and template units), and
 * {@code %%} for a literal {@code %}.
 *
 * <p>fleet replaced the four specifiers with plain string substitution and left anything else as
 * it was; like systemd, this refuses any other specifier ({@code %H}, {@code %m} would mean the host
 * of whoever reads the file, which is not defined for a cluster-level decision) and a lone
 * {@code %} at the end.
 */
public final class Specifiers {

  private Specifiers() {}

  /** Expands {@code value} for unit {@code name}; throws {@link IllegalArgumentException} naming the bad specifier. */
  public static String expand(String value, UnitName name) {
    return expand(value, name, Map.of(), "[X-Fleet]");
  }

  /**
   * As {@link #expand(String, UnitName)}, also expanding the specifiers in {@code extra} (those
   * only a reader on one host can answer, such as systemd's {@code %I} or {@code %H});
   * {@code reader} names who expands them, for the error message.
   */
  public static String expand(String value, UnitName name, Map<Character, Supplier<String>> extra, String reader) {
    int pct = value.indexOf('%');
    if (pct < 0) {
      return value;
    }
    StringBuilder out = new StringBuilder(value.length() + 32);
    out.append(value, 0, pct);
    for (int i = pct; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c != '%') {
        out.append(c);
        continue;
      }
      if (i + 1 == value.length()) {
        throw new IllegalArgumentException("'%' at the end of '" + value + "'; write %% for a literal %");
      }
      char s = value.charAt(++i);
      switch (s) {
        case 'n' -> out.append(name.name());
        case 'N' -> out.append(name.withoutSuffix());
        case 'p' -> out.append(name.prefix());
        case 'i' -> out.append(name.instance());
        case '%' -> out.append('%');
        default -> {
          Supplier<String> more = extra.get(s);
          if (more == null) {
            StringBuilder known = new StringBuilder("%n %N %p %i");
            extra.keySet().stream().sorted().forEach(k -> known.append(" %").append(k));
            throw new IllegalArgumentException("unsupported specifier %" + s + " in '" + value + "'; " + reader
                + " expands only " + known + " (and %% for a literal %)");
          }
          out.append(more.get());
        }
      }
    }
    return out.toString();
  }
}
