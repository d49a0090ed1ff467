package dev.flotilla.scheduler.fleet;

import dev.flotilla.scheduler.unit.InvalidUnitNameException;
import dev.flotilla.scheduler.unit.Memo;
import dev.flotilla.scheduler.unit.Specifiers;
import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitName;
import dev.flotilla.scheduler.unit.UnitOption;
import dev.flotilla.scheduler.unit.Words;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code [X-Fleet]} section of one unit, read for that unit's name (specifiers expanded) and
 * validated: what placement needs to know about it.
 *
 * <p>Reading rules (see the module README for the options themselves):
 *
 * <ul>
 *   <li>values are split into words by systemd's quoting rules ({@link Words}), then each word has
 *       {@code %n %N %p %i %%} expanded for the unit's name;</li>
 *   <li>an empty assignment ({@code Conflicts=}) discards earlier assignments of that option,
 *       deprecated spellings included; for single-valued options the last assignment wins;</li>
 *   <li>anything fleet would have ignored silently (an unknown option, a malformed
 *       {@code MachineMetadata} pair, a malformed glob, {@code Global=maybe}) is an error here.</li>
 * </ul>
 *
 * @param unit the unit's full name
 * @param machineId the machine the unit must run on
 * @param machineOf units it must run next to (all of them, so all on one machine)
 * @param metadata what the machine's metadata must match
 * @param conflicts units it must never run next to (symmetric: theirs apply to it too)
 * @param replaces units that must move away when this one is placed on their machine
 * @param global one instance on every machine matching {@code metadata}
 * @param reservation CPU and memory set aside for it on its machine
 * @param warnings deprecated spellings used (the unit is accepted)
 */
public record XFleetOptions(
    String unit,
    Optional<String> machineId,
    List<String> machineOf,
    MetadataRequirement metadata,
    List<Glob> conflicts,
    List<Glob> replaces,
    boolean global,
    Resources reservation,
    List<String> warnings) {

  public XFleetOptions {
    Objects.requireNonNull(unit, "unit");
    Objects.requireNonNull(machineId, "machineId");
    machineOf = List.copyOf(machineOf);
    Objects.requireNonNull(metadata, "metadata");
    conflicts = List.copyOf(conflicts);
    replaces = List.copyOf(replaces);
    Objects.requireNonNull(reservation, "reservation");
    warnings = List.copyOf(warnings);
  }

  /** A unit without an [X-Fleet] section: it may go anywhere. */
  public static XFleetOptions none(String unit) {
    return builder(unit).build();
  }

  /**
   * Reads and validates the [X-Fleet] section of {@code file} for the unit {@code name}.
   *
   * <p>For a template ({@code web@.service}) everything that does not depend on the instance is
   * checked ({@code %i} expands to the empty string); the {@code MachineOf} names are checked when
   * an instance is read. Throws {@link InvalidUnitException} listing every problem.
   */
  public static XFleetOptions parse(UnitName name, UnitFile file) {
    Section section = Section.of(file);
    if (!section.isBlank()) {
      return new Reader(name, section).read();
    }
    // no [X-Fleet] assignment at all (most units, every instance of such a template): the same
    // options for every name, so read once per file and only renamed after (a batch of 300
    // instances had read the empty section 300 times, in the API and again in the engine)
    XFleetOptions blank = section.blank;
    if (blank == null) {
      blank = new Reader(name, section).read();
      section.blank = blank;
    }
    return blank.unit().equals(name.name()) ? blank : blank.forUnit(name.name());
  }

  /** These options for another unit's name. */
  private XFleetOptions forUnit(String name) {
    return new XFleetOptions(name, machineId, machineOf, metadata, conflicts, replaces, global, reservation, warnings);
  }

  /** As {@link #parse(UnitName, UnitFile)}, validating the name first. */
  public static XFleetOptions parse(String name, UnitFile file) {
    UnitName unitName;
    try {
      unitName = UnitName.parse(name);
    } catch (InvalidUnitNameException e) {
      throw new InvalidUnitException(name, List.of(e.getMessage()));
    }
    return parse(unitName, file);
  }

  /**
   * Whether the unit runs on every matching machine ({@code Global=true}): a valid, non-template
   * unit. An invalid unit runs nowhere (the engine records why), so it is not global either.
   */
  public static boolean runsGlobally(UnitName name, UnitFile file) {
    if (name.isTemplate() || file.rawValues(XFleetKey.SECTION, XFleetKey.GLOBAL.key()).isEmpty()) {
      return false; // no Global= at all: not global, valid or not (no need to parse the rest)
    }
    try {
      return parse(name, file).global();
    } catch (InvalidUnitException e) {
      return false;
    }
  }

  /** Whether this unit's {@code Conflicts} names {@code other} (never itself). */
  public boolean conflictsWith(String other) {
    return !other.equals(unit) && anyMatches(conflicts, other);
  }

  /** Whether this unit's {@code Replaces} names {@code other} (never itself). */
  public boolean replaces(String other) {
    return !other.equals(unit) && anyMatches(replaces, other);
  }

  public boolean hasReservation() {
    return !reservation.isZero();
  }

  private static boolean anyMatches(List<Glob> globs, String name) {
    // by index: placement asks this four times for every unit it looks at on every machine it
    // tries, mostly of empty lists, and an iterator each time was a fifth of all it allocated
    for (int i = 0, n = globs.size(); i < n; i++) {
      if (globs.get(i).matches(name)) {
        return true;
      }
    }
    return false;
  }

  public static Builder builder(String unit) {
    return new Builder(unit);
  }

  /** Builds options directly (tests, generated workloads); no cross-option validation. */
  public static final class Builder {
    private final String unit;
    private String machineId;
    private final List<String> machineOf = new ArrayList<>();
    private final List<Map.Entry<String, String>> metadata = new ArrayList<>();
    private final List<Glob> conflicts = new ArrayList<>();
    private final List<Glob> replaces = new ArrayList<>();
    private boolean global;
    private Resources reservation = Resources.NONE;

    private Builder(String unit) {
      this.unit = unit;
    }

    public Builder machineId(String id) {
      this.machineId = id;
      return this;
    }

    public Builder machineOf(String... units) {
      machineOf.addAll(List.of(units));
      return this;
    }

    public Builder metadata(String key, String value) {
      metadata.add(new AbstractMap.SimpleImmutableEntry<>(key, value));
      return this;
    }

    public Builder conflicts(String... patterns) {
      for (String p : patterns) {
        conflicts.add(Glob.compile(p));
      }
      return this;
    }

    public Builder replaces(String... patterns) {
      for (String p : patterns) {
        replaces.add(Glob.compile(p));
      }
      return this;
    }

    public Builder global(boolean global) {
      this.global = global;
      return this;
    }

    public Builder reservation(Resources reservation) {
      this.reservation = reservation;
      return this;
    }

    public XFleetOptions build() {
      return new XFleetOptions(unit, Optional.ofNullable(machineId), machineOf,
          MetadataRequirement.of(metadata), conflicts, replaces, global, reservation, List.of());
    }
  }

  /** One assignment as written: the spelling used and the raw value. */
  private record Written(String name, String value) {
    String text() {
      return name + "=" + value;
    }
  }

  /** One word of an assignment after quoting and specifiers. */
  private record Word(Written from, String text) {}

  /** One option as read: its value and the problems found reading it, in order. */
  private record Part(Object value, List<String> problems) {}

  /**
   * A unit file's [X-Fleet] before any unit name is applied: the effective assignments of each
   * option, the unknown options, the deprecated spellings, and each option whose words hold no
   * specifier read once and for all (its value is the same for every name). The instances of a
   * template share one file, so this is done once per file (equal files share it), not once per
   * unit; what is left per name is the options with specifiers and the checks across options.
   */
  private static final class Section {
    private static final Memo<UnitFile, Section> READ = new Memo<>(1024, Section::new);

    final List<String> problems;
    final List<String> warnings;
    final Map<XFleetKey, List<Written>> effective;
    /** Options read once for every name; absent: read per name (MachineOf always: its checks depend on the name). */
    final Map<XFleetKey, Part> parts = new EnumMap<>(XFleetKey.class);
    /** The options of a blank section, once read (for any name: they differ only in it); null before. */
    volatile XFleetOptions blank;

    static Section of(UnitFile file) {
      return READ.get(file);
    }

    /** No [X-Fleet] option assigned, not even emptied, and nothing wrong or deprecated in it. */
    boolean isBlank() {
      return effective.isEmpty() && problems.isEmpty() && warnings.isEmpty();
    }

    private Section(UnitFile file) {
      List<String> unknown = new ArrayList<>();
      List<String> deprecated = new ArrayList<>();
      Map<XFleetKey, List<Written>> assigned = new EnumMap<>(XFleetKey.class);
      Set<String> warned = new LinkedHashSet<>();
      for (UnitOption o : file.options(XFleetKey.SECTION)) {
        Optional<XFleetKey> key = XFleetKey.lookup(o.name());
        if (key.isEmpty()) {
          unknown.add("unknown option " + o.name() + "= in [X-Fleet]; the options are " + XFleetKey.keyList());
          continue;
        }
        if (!key.get().key().equals(o.name()) && warned.add(o.name())) {
          deprecated.add(o.name() + "= is a deprecated spelling (fleet 0.8); write " + key.get().key() + "=");
        }
        List<Written> list = assigned.computeIfAbsent(key.get(), k -> new ArrayList<>());
        if (o.value().isEmpty()) {
          list.clear();
        } else {
          list.add(new Written(o.name(), o.value()));
        }
      }
      this.problems = List.copyOf(unknown);
      this.warnings = List.copyOf(deprecated);
      this.effective = assigned;
      for (XFleetKey key : XFleetKey.values()) {
        if (key != XFleetKey.MACHINE_OF && !hasSpecifier(assigned.getOrDefault(key, List.of()))) {
          Reader r = new Reader(null, this); // no word to expand: the name is not used
          r.problems.clear();
          Object value = r.part(key);
          parts.put(key, new Part(value, List.copyOf(r.problems)));
        }
      }
    }

    private static boolean hasSpecifier(List<Written> assignments) {
      for (Written w : assignments) {
        try {
          for (String word : Words.split(w.value())) {
            if (word.indexOf('%') >= 0) {
              return true;
            }
          }
        } catch (IllegalArgumentException e) {
          // a problem for every name alike
        }
      }
      return false;
    }
  }

  private static final class Reader {
    private final UnitName name;
    private final Section section;
    private final List<String> problems;
    private final Map<XFleetKey, List<Written>> effective;

    Reader(UnitName name, Section section) {
      this.name = name;
      this.section = section;
      this.problems = new ArrayList<>(section.problems);
      this.effective = section.effective;
    }

    /** {@code key}'s value, as read once for the file or now; its problems added in either case. */
    private Object value(XFleetKey key) {
      Part p = section.parts.get(key);
      if (p == null) {
        return part(key);
      }
      problems.addAll(p.problems());
      return p.value();
    }

    /** Reads {@code key}'s value for this name. */
    private Object part(XFleetKey key) {
      return switch (key) {
        case MACHINE_ID -> single(key).map(Word::text);
        case GLOBAL -> single(key).map(this::parseBoolean).orElse(false);
        case MEMORY_RESERVATION -> single(key).map(w -> parse(w, Resources::parseMemory)).orElse(0L);
        case CPU_RESERVATION -> single(key).map(w -> parse(w, Resources::parseCpu)).orElse(0L);
        case MACHINE_OF -> machineOf();
        case MACHINE_METADATA -> metadata();
        case CONFLICTS, REPLACES -> List.copyOf(globs(key));
      };
    }

    @SuppressWarnings("unchecked")
    XFleetOptions read() {
      // in this order, so that the problems are listed in it
      Optional<String> machineId = (Optional<String>) value(XFleetKey.MACHINE_ID);
      boolean global = (Boolean) value(XFleetKey.GLOBAL);
      long memory = (Long) value(XFleetKey.MEMORY_RESERVATION);
      long cpu = (Long) value(XFleetKey.CPU_RESERVATION);
      List<String> machineOf = (List<String>) value(XFleetKey.MACHINE_OF);
      MetadataRequirement metadata = (MetadataRequirement) value(XFleetKey.MACHINE_METADATA);
      List<Glob> conflicts = (List<Glob>) value(XFleetKey.CONFLICTS);
      List<Glob> replaces = (List<Glob>) value(XFleetKey.REPLACES);

      if (global) {
        for (XFleetKey other : List.of(XFleetKey.MACHINE_ID, XFleetKey.MACHINE_OF, XFleetKey.CONFLICTS,
            XFleetKey.REPLACES, XFleetKey.MEMORY_RESERVATION, XFleetKey.CPU_RESERVATION)) {
          if (present(other)) {
            problems.add(lastWritten(XFleetKey.GLOBAL).text() + " cannot be combined with "
                + lastWritten(other).name() + " (a global unit may only have MachineMetadata)");
          }
        }
      }
      refuseTogether(XFleetKey.MACHINE_ID, XFleetKey.MACHINE_OF,
          "a unit placed next to another goes wherever that one is");
      refuseTogether(XFleetKey.MACHINE_ID, XFleetKey.CONFLICTS, "fleet refuses this pair too");
      refuseTogether(XFleetKey.CONFLICTS, XFleetKey.REPLACES, "fleet refuses this pair too");
      if (!name.isTemplate()) {
        for (String target : machineOf) {
          for (Glob g : conflicts) {
            if (g.matches(target)) {
              problems.add("MachineOf=" + target + " matches Conflicts=" + g
                  + ": the unit would have to run both next to it and away from it");
            }
          }
          for (Glob g : replaces) {
            if (g.matches(target)) {
              problems.add("MachineOf=" + target + " matches Replaces=" + g
                  + ": the unit would push away the unit it must run next to");
            }
          }
        }
      }
      if (!problems.isEmpty()) {
        throw new InvalidUnitException(name.name(), problems);
      }
      return new XFleetOptions(name.name(), machineId, machineOf, metadata, conflicts, replaces, global,
          new Resources(cpu, memory), section.warnings);
    }

    private boolean present(XFleetKey key) {
      return !effective.getOrDefault(key, List.of()).isEmpty();
    }

    private Written lastWritten(XFleetKey key) {
      List<Written> list = effective.get(key);
      return list.get(list.size() - 1);
    }

    private void refuseTogether(XFleetKey a, XFleetKey b, String why) {
      if (present(a) && present(b)) {
        problems.add(lastWritten(a).name() + " cannot be combined with " + lastWritten(b).name() + " (" + why + ")");
      }
    }

    /** Words of every effective assignment of {@code key}, problems recorded. */
    private List<Word> words(XFleetKey key) {
      List<Word> out = new ArrayList<>();
      for (Written w : effective.getOrDefault(key, List.of())) {
        out.addAll(words(w));
      }
      return out;
    }

    private List<Word> words(Written w) {
      List<String> split;
      try {
        split = Words.split(w.value());
      } catch (IllegalArgumentException e) {
        problems.add(w.text() + ": " + e.getMessage());
        return List.of();
      }
      List<Word> out = new ArrayList<>(split.size());
      for (String word : split) {
        try {
          out.add(new Word(w, Specifiers.expand(word, name)));
        } catch (IllegalArgumentException e) {
          problems.add(w.text() + ": " + e.getMessage());
        }
      }
      return out;
    }

    /** The value of a single-valued option: every assignment must be one word; the last wins. */
    private Optional<Word> single(XFleetKey key) {
      Word last = null;
      for (Written w : effective.getOrDefault(key, List.of())) {
        int before = problems.size();
        List<Word> ws = words(w);
        if (problems.size() > before) {
          continue;
        }
        if (ws.size() != 1 || ws.get(0).text().isEmpty()) {
          problems.add(w.text() + ": " + key.key() + " takes exactly one value, got " + ws.size());
          continue;
        }
        last = ws.get(0);
      }
      return Optional.ofNullable(last);
    }

    private boolean parseBoolean(Word w) {
      switch (w.text().toLowerCase(Locale.ROOT)) {
        case "1", "yes", "y", "true", "t", "on":
          return true;
        case "0", "no", "n", "false", "f", "off":
          return false;
        default:
          problems.add(w.from().text() + ": not a boolean; use true or false");
          return false;
      }
    }

    private interface Parser {
      long parse(String s);
    }

    private long parse(Word w, Parser parser) {
      try {
        return parser.parse(w.text());
      } catch (IllegalArgumentException e) {
        problems.add(w.from().text() + ": " + e.getMessage());
        return 0;
      }
    }

    private List<String> machineOf() {
      Set<String> out = new LinkedHashSet<>();
      for (Word w : words(XFleetKey.MACHINE_OF)) {
        if (w.text().isEmpty()) {
          problems.add(w.from().text() + ": empty unit name");
          continue;
        }
        if (!name.isTemplate()) {
          try {
            UnitName target = UnitName.parse(w.text());
            if (target.isTemplate()) {
              problems.add(w.from().text() + ": " + target + " is a template, which is never scheduled; "
                  + "name an instance such as " + target.prefix() + "@1." + target.type().suffix());
              continue;
            }
          } catch (InvalidUnitNameException e) {
            problems.add(w.from().text() + ": " + e.getMessage());
            continue;
          }
          if (w.text().equals(name.name())) {
            problems.add(w.from().text() + ": a unit cannot be placed next to itself");
            continue;
          }
        }
        out.add(w.text());
      }
      return new ArrayList<>(out);
    }

    private MetadataRequirement metadata() {
      List<Map.Entry<String, String>> pairs = new ArrayList<>();
      for (Word w : words(XFleetKey.MACHINE_METADATA)) {
        int eq = w.text().indexOf('=');
        if (eq <= 0 || eq == w.text().length() - 1) {
          problems.add(w.from().text() + ": '" + w.text() + "' is not key=value with a non-empty key and value");
          continue;
        }
        pairs.add(new AbstractMap.SimpleImmutableEntry<>(w.text().substring(0, eq), w.text().substring(eq + 1)));
      }
      return MetadataRequirement.of(pairs);
    }

    private List<Glob> globs(XFleetKey key) {
      Set<Glob> out = new LinkedHashSet<>();
      for (Word w : words(key)) {
        try {
          out.add(Glob.compile(w.text()));
        } catch (IllegalArgumentException e) {
          problems.add(w.from().text() + ": malformed pattern: " + e.getMessage());
        }
      }
      return new ArrayList<>(out);
    }
  }
}
