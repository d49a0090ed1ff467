package dev.flotilla.scheduler.registry.store;

import com.google.protobuf.ByteString;
import dev.flotilla.kv.client.KeyRange;
import java.util.List;
import java.util.Optional;

/**
 * Where the registry keeps what, under one prefix ({@value #DEFAULT_PREFIX} by default):
 *
 * <pre>
 * units/&lt;unit&gt;                 unit file, name and desired state (JSON)        engine, API
 * assignment/&lt;unit&gt;            machine ID: the unit → machine index            engine
 * schedule/&lt;machine&gt;/&lt;unit&gt;    desired state of a unit assigned to machine      that machine's agent
 * globals/&lt;unit&gt;               desired state of a global unit                  every agent
 * reasons/&lt;unit&gt;               why the unit is not scheduled                   API
 * machines/&lt;machine&gt;           presence (JSON), under the agent's lease         engine, API
 * states/&lt;unit&gt;/&lt;machine&gt;      systemd states reported (JSON), agent's lease    API
 * </pre>
 *
 * An agent watches {@code schedule/<its machine>/} and {@code globals/} only; the engine watches the whole prefix
 * and keeps units, assignments and machines. Unit names and machine IDs never contain '/'.
 */
public record RegistryKeys(String prefix) {
  public static final String DEFAULT_PREFIX = "/flotilla/";

  public RegistryKeys {
    if (prefix.isEmpty() || !prefix.endsWith("/")) {
      throw new IllegalArgumentException("registry key prefix '" + prefix + "' must end with '/', e.g. /flotilla/");
    }
  }

  public enum Kind { UNIT, ASSIGNMENT, SCHEDULE, GLOBAL, REASON, MACHINE, STATE }

  /** A registry key taken apart: its kind, the unit and/or machine it names (null when not named). */
  public record Parsed(Kind kind, String unit, String machine) {}

  private static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private static String checkName(String what, String name) {
    if (name.isEmpty() || name.indexOf('/') >= 0) {
      throw new IllegalArgumentException(what + " '" + name + "' must be non-empty and contain no '/'");
    }
    return name;
  }

  public ByteString unit(String unit) {
    return b(prefix + "units/" + checkName("unit name", unit));
  }

  public KeyRange units() {
    return KeyRange.prefix(prefix + "units/");
  }

  public ByteString assignment(String unit) {
    return b(prefix + "assignment/" + checkName("unit name", unit));
  }

  public KeyRange assignments() {
    return KeyRange.prefix(prefix + "assignment/");
  }

  public ByteString scheduled(String machine, String unit) {
    return b(prefix + "schedule/" + checkName("machine ID", machine) + "/" + checkName("unit name", unit));
  }

  public KeyRange scheduledOn(String machine) {
    return KeyRange.prefix(prefix + "schedule/" + checkName("machine ID", machine) + "/");
  }

  public ByteString global(String unit) {
    return b(prefix + "globals/" + checkName("unit name", unit));
  }

  public KeyRange globals() {
    return KeyRange.prefix(prefix + "globals/");
  }

  public ByteString reason(String unit) {
    return b(prefix + "reasons/" + checkName("unit name", unit));
  }

  public KeyRange reasons() {
    return KeyRange.prefix(prefix + "reasons/");
  }

  public ByteString machine(String machine) {
    return b(prefix + "machines/" + checkName("machine ID", machine));
  }

  public KeyRange machines() {
    return KeyRange.prefix(prefix + "machines/");
  }

  public ByteString state(String unit, String machine) {
    return b(prefix + "states/" + checkName("unit name", unit) + "/" + checkName("machine ID", machine));
  }

  public KeyRange statesOf(String unit) {
    return KeyRange.prefix(prefix + "states/" + checkName("unit name", unit) + "/");
  }

  public KeyRange states() {
    return KeyRange.prefix(prefix + "states/");
  }

  public KeyRange all() {
    return KeyRange.prefix(prefix);
  }

  /**
   * What the engine watches: {@code assignment/} through {@code machines/} (the engine leader key
   * and {@code globals/} lie between them, in key order) and {@code units/}; not {@code reasons/},
   * {@code schedule/} and {@code states/}, which lie between the two ranges and which nothing in the
   * engine reads from its watch (a start of 300 units writes 300 schedule entries and 300 or more state
   * reports: with the whole prefix watched, each was sent to the engine leader, decoded and dropped).
   */
  public List<KeyRange> engineWatched() {
    return List.of(new KeyRange(assignments().key(), machines().end()), units());
  }

  /** What a key under the prefix is; empty for anything else. */
  public Optional<Parsed> parse(ByteString key) {
    String k = key.toStringUtf8();
    if (!k.startsWith(prefix)) {
      return Optional.empty();
    }
    String rest = k.substring(prefix.length());
    int slash = rest.indexOf('/');
    if (slash < 0) {
      return Optional.empty();
    }
    String dir = rest.substring(0, slash);
    String name = rest.substring(slash + 1);
    int inner = name.indexOf('/');
    return switch (dir) {
      case "units" -> inner < 0 ? Optional.of(new Parsed(Kind.UNIT, name, null)) : Optional.empty();
      case "assignment" -> inner < 0 ? Optional.of(new Parsed(Kind.ASSIGNMENT, name, null)) : Optional.empty();
      case "globals" -> inner < 0 ? Optional.of(new Parsed(Kind.GLOBAL, name, null)) : Optional.empty();
      case "reasons" -> inner < 0 ? Optional.of(new Parsed(Kind.REASON, name, null)) : Optional.empty();
      case "machines" -> inner < 0 ? Optional.of(new Parsed(Kind.MACHINE, null, name)) : Optional.empty();
      case "schedule" -> inner < 0 ? Optional.empty()
          : Optional.of(new Parsed(Kind.SCHEDULE, name.substring(inner + 1), name.substring(0, inner)));
      case "states" -> inner < 0 ? Optional.empty()
          : Optional.of(new Parsed(Kind.STATE, name.substring(0, inner), name.substring(inner + 1)));
      default -> Optional.empty();
    };
  }
}
