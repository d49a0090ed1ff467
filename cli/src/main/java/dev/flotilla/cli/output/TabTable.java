package dev.flotilla.cli.output;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A table laid out as fleetctl lays out its listings: Go's {@code text/tabwriter} with minwidth 0,
 * tabwidth 8, padding 1 and tabs as padding. Each cell but the last of a row is followed by enough
 * tabs to reach its column's width (the widest cell plus one, rounded up to a multiple of 8), so
 * the output is byte for byte fleetctl's and still splits on tabs.
 */
public final class TabTable {
  private static final int TAB_WIDTH = 8;
  private static final int PADDING = 1;

  private final List<List<String>> rows = new ArrayList<>();

  public TabTable row(String... cells) {
    rows.add(Arrays.asList(cells));
    return this;
  }

  public TabTable row(List<String> cells) {
    rows.add(List.copyOf(cells));
    return this;
  }

  public String render() {
    int columns = 0;
    for (List<String> r : rows) {
      columns = Math.max(columns, r.size());
    }
    int[] width = new int[columns];
    for (List<String> r : rows) {
      for (int c = 0; c < r.size() - 1; c++) { // the last cell of a row is not part of a column
        width[c] = Math.max(width[c], textWidth(r.get(c)) + PADDING);
      }
    }
    StringBuilder sb = new StringBuilder();
    for (List<String> r : rows) {
      for (int c = 0; c < r.size(); c++) {
        String cell = r.get(c);
        sb.append(cell);
        if (c < r.size() - 1) {
          int cellWidth = (width[c] + TAB_WIDTH - 1) / TAB_WIDTH * TAB_WIDTH;
          int pad = cellWidth - textWidth(cell);
          sb.append("\t".repeat((pad + TAB_WIDTH - 1) / TAB_WIDTH));
        }
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  private static int textWidth(String s) {
    return s.codePointCount(0, s.length());
  }
}
