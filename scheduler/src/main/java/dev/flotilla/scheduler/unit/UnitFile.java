package dev.flotilla.scheduler.unit;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed unit file: its options, grouped by section in the order sections first appear, each
 * section's options in file order. Comments, blank lines, line wrapping and the order in which
 * sections were interleaved are not kept: systemd gives them no meaning, and fleet dropped them
 * too, so two files that differ only in those have the same {@link #hash()}.
 *
 * <p>Repeated keys are all kept, in order. {@link #values} applies systemd's list convention on
 * top: an empty assignment ({@code Key=}) discards the assignments before it.
 */
public final class UnitFile {

  private final List<UnitOption> options;
  private final List<String> sections;
  private String canonical;
  private UnitHash hash;
  /** {@link #hashCode}, once asked (0: not yet): files are map keys where [X-Fleet] is read once per file. */
  private int hashCode;

  private UnitFile(List<UnitOption> grouped, List<String> sections) {
    this.options = grouped;
    this.sections = sections;
  }

  /** Parses unit file text; see {@link UnitFileParser} for the rules. */
  public static UnitFile parse(String text) {
    return UnitFileParser.parse(text);
  }

  /** A unit file with these options (fleet's API sends options, not text), grouped by section. */
  public static UnitFile of(List<UnitOption> options) {
    Map<String, List<UnitOption>> bySection = new LinkedHashMap<>();
    for (UnitOption option : options) {
      bySection.computeIfAbsent(option.section(), s -> new ArrayList<>()).add(option);
    }
    List<UnitOption> grouped = new ArrayList<>(options.size());
    bySection.values().forEach(grouped::addAll);
    return new UnitFile(Collections.unmodifiableList(grouped), List.copyOf(bySection.keySet()));
  }

  /** All options, grouped by section. */
  public List<UnitOption> options() {
    return options;
  }

  /** Section names in the order they first appear. Sections without options are not kept. */
  public List<String> sections() {
    return sections;
  }

  public List<UnitOption> options(String section) {
    List<UnitOption> out = new ArrayList<>();
    for (UnitOption o : options) {
      if (o.section().equals(section)) {
        out.add(o);
      }
    }
    return out;
  }

  /** Every assignment of {@code key} in {@code section}, empty ones included, in order. */
  public List<String> rawValues(String section, String key) {
    List<String> out = new ArrayList<>();
    for (UnitOption o : options) {
      if (o.section().equals(section) && o.name().equals(key)) {
        out.add(o.value());
      }
    }
    return out;
  }

  /**
   * The effective list for {@code key} in {@code section}: the assignments after the last empty
   * one ({@code Key=} resets a list in systemd). Empty when the key is absent or was reset last.
   */
  public List<String> values(String section, String key) {
    List<String> out = new ArrayList<>();
    for (String v : rawValues(section, key)) {
      if (v.isEmpty()) {
        out.clear();
      } else {
        out.add(v);
      }
    }
    return out;
  }

  /** The effective single value (the last assignment wins, as for systemd's scalar settings). */
  public Optional<String> value(String section, String key) {
    List<String> values = values(section, key);
    return values.isEmpty() ? Optional.empty() : Optional.of(values.get(values.size() - 1));
  }

  /**
   * The canonical text: for each section in order, {@code [Section]} then one {@code Name=Value}
   * line per option, sections separated by one empty line, each line ending in {@code \n}. This is
   * byte for byte what fleet produced (go-systemd's {@code unit.Serialize}) for the same options.
   */
  public String serialize() {
    if (canonical == null) {
      StringBuilder sb = new StringBuilder();
      String current = null;
      for (UnitOption o : options) {
        if (!o.section().equals(current)) {
          if (current != null) {
            sb.append('\n');
          }
          sb.append('[').append(o.section()).append("]\n");
          current = o.section();
        }
        sb.append(o.name()).append('=').append(o.value()).append('\n');
      }
      canonical = sb.toString();
    }
    return canonical;
  }

  /** SHA-1 of {@link #serialize()} in UTF-8: the hash fleet shows in list-unit-files. */
  public UnitHash hash() {
    if (hash == null) {
      hash = UnitHash.of(serialize());
    }
    return hash;
  }

  @Override
  public boolean equals(Object o) {
    return o == this || o instanceof UnitFile other && options.equals(other.options);
  }

  @Override
  public int hashCode() {
    int h = hashCode;
    if (h == 0) {
      h = options.hashCode();
      hashCode = h;
    }
    return h;
  }

  @Override
  public String toString() {
    return "UnitFile{" + hash().shortHex() + ", " + options.size() + " options}";
  }
}
