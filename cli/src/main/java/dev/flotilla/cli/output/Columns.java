package dev.flotilla.cli.output;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * fleetctl's {@code --fields}: named columns of a listing, each a function of the row and
 * {@code --full}; the legend is the names in capitals.
 */
public final class Columns<T> {
  private final Map<String, BiFunction<T, Boolean, String>> columns = new LinkedHashMap<>();

  public Columns<T> add(String name, BiFunction<T, Boolean, String> value) {
    columns.put(name, value);
    return this;
  }

  /** The columns {@code spec} names; throws {@link IllegalArgumentException} naming the valid ones. */
  public List<String> parse(String spec) {
    List<String> out = new ArrayList<>();
    for (String f : spec.split(",", -1)) {
      String name = f.strip();
      if (!columns.containsKey(name)) {
        throw new IllegalArgumentException("invalid field '" + name + "' in --fields; valid fields are "
            + String.join(",", columns.keySet()));
      }
      out.add(name);
    }
    return out;
  }

  public String render(List<T> rows, List<String> fields, boolean full, boolean legend) {
    TabTable table = new TabTable();
    if (legend) {
      table.row(fields.stream().map(f -> f.toUpperCase(Locale.ROOT)).toList());
    }
    for (T row : rows) {
      List<String> cells = new ArrayList<>(fields.size());
      for (String f : fields) {
        cells.add(columns.get(f).apply(row, full));
      }
      table.row(cells);
    }
    return table.render();
  }
}
