package dev.flotilla.scheduler.unit;

import java.util.Optional;

/**
 * A validated unit name: {@code prefix.type}, a template {@code prefix@.type} or an instance
 * {@code prefix@instance.type}, following systemd's {@code unit_name_is_valid}:
 *
 * <ul>
 *   <li>at most 255 characters in all (systemd's UNIT_NAME_MAX less the NUL; fleet allowed 256);</li>
 *   <li>the type is what follows the last dot and is one of {@link UnitType};</li>
 *   <li>before it, only ASCII letters, digits and {@code : - _ . \ @};</li>
 *   <li>the first {@code @} splits prefix from instance; the prefix is not empty; an {@code @}
 *       right before the dot makes a template; the instance may itself contain {@code @} and dots;</li>
 *   <li>only service, socket, timer and path units can be templates or instances.</li>
 * </ul>
 */
public final class UnitName implements Comparable<UnitName> {

  public static final int MAX_LENGTH = 255;

  private final String name;
  private final String prefix;
  private final String instance; // null: plain; "": template
  private final UnitType type;

  private UnitName(String name, String prefix, String instance, UnitType type) {
    this.name = name;
    this.prefix = prefix;
    this.instance = instance;
    this.type = type;
  }

  /** Parses and validates; throws {@link InvalidUnitNameException} saying what is wrong. */
  public static UnitName parse(String name) {
    if (name == null || name.isEmpty()) {
      throw new InvalidUnitNameException(String.valueOf(name), "it is empty");
    }
    if (name.length() > MAX_LENGTH) {
      throw new InvalidUnitNameException(abbreviate(name),
          "it is " + name.length() + " characters long; the limit is " + MAX_LENGTH);
    }
    int dot = name.lastIndexOf('.');
    if (dot < 0) {
      throw new InvalidUnitNameException(name, "it has no type suffix; add one of " + UnitType.suffixList());
    }
    if (dot == 0) {
      throw new InvalidUnitNameException(name, "the name before the type suffix is empty");
    }
    String suffix = name.substring(dot + 1);
    UnitType type = UnitType.fromSuffix(suffix).orElseThrow(() -> new InvalidUnitNameException(name,
        "unsupported unit type '" + suffix + "'; fleet schedules " + UnitType.suffixList()));
    String stem = name.substring(0, dot);
    for (int i = 0; i < stem.length(); i++) {
      char c = stem.charAt(i);
      if (!validChar(c)) {
        throw new InvalidUnitNameException(name, "character '" + printable(c) + "' at position " + (i + 1)
            + " is not allowed; use ASCII letters, digits and : - _ . \\ @ (escape others as \\xNN, like systemd-escape)");
      }
    }
    int at = stem.indexOf('@');
    if (at == 0) {
      throw new InvalidUnitNameException(name, "it starts with '@'; a template or instance needs a prefix before '@'");
    }
    if (at < 0) {
      return new UnitName(name, stem, null, type);
    }
    if (!type.mayTemplate()) {
      throw new InvalidUnitNameException(name, type.suffix() + " units cannot be templates or instances");
    }
    return new UnitName(name, stem.substring(0, at), stem.substring(at + 1), type);
  }

  /** Whether {@code name} is valid, without saying why not. */
  public static boolean isValid(String name) {
    try {
      parse(name);
      return true;
    } catch (InvalidUnitNameException e) {
      return false;
    }
  }

  private static boolean validChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == ':' || c == '-' || c == '_' || c == '.' || c == '\\' || c == '@';
  }

  /** The full name, e.g. {@code web@1.service}. */
  public String name() {
    return name;
  }

  /** The name without the type suffix ({@code %N}), e.g. {@code web@1}. */
  public String withoutSuffix() {
    return name.substring(0, name.length() - type.suffix().length() - 1);
  }

  /** What comes before the first {@code @}, or the whole name without suffix ({@code %p}). */
  public String prefix() {
    return prefix;
  }

  /** The instance ({@code %i}): empty for plain and template units. */
  public String instance() {
    return instance == null ? "" : instance;
  }

  public UnitType type() {
    return type;
  }

  /** {@code prefix@.type}: a unit file fleet stores but never schedules. */
  public boolean isTemplate() {
    return instance != null && instance.isEmpty();
  }

  /** {@code prefix@instance.type}: scheduled with its template's unit file unless it has its own. */
  public boolean isInstance() {
    return instance != null && !instance.isEmpty();
  }

  /** The template an instance (or a template) belongs to, e.g. {@code web@.service}. */
  public Optional<UnitName> template() {
    if (instance == null) {
      return Optional.empty();
    }
    return Optional.of(isTemplate() ? this : new UnitName(prefix + "@." + type.suffix(), prefix, "", type));
  }

  /** The instance {@code instance} of this template; validates the result. */
  public UnitName instance(String instanceName) {
    if (!isTemplate()) {
      throw new IllegalStateException(name + " is not a template");
    }
    return parse(prefix + "@" + instanceName + "." + type.suffix());
  }

  @Override
  public int compareTo(UnitName o) {
    return name.compareTo(o.name);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof UnitName other && name.equals(other.name);
  }

  @Override
  public int hashCode() {
    return name.hashCode();
  }

  @Override
  public String toString() {
    return name;
  }

  private static String printable(char c) {
    return c < 0x20 || c == 0x7f ? String.format("\\x%02x", (int) c) : String.valueOf(c);
  }

  private static String abbreviate(String s) {
    return s.substring(0, 40) + "...";
  }
}
