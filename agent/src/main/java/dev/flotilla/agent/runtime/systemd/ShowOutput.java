package dev.flotilla.agent.runtime.systemd;

import dev.flotilla.agent.runtime.UnitStatus;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the output of {@code systemctl show -p Id,LoadState,ActiveState,SubState,MainPID u1 u2 …}.
 *
 * <p>systemd prints one block of {@code Key=value} lines per unit asked for, in the order asked,
 * blocks separated by a blank line; inside a block the properties come in systemd's own order
 * (MainPID first), not the order of {@code -p}. A unit systemd does not know still gets a block
 * ({@code LoadState=not-found}). The block's {@code Id} may differ from the name asked for (an
 * alias resolves to its unit, an odd name is escaped), so blocks are matched by position, and
 * by {@code Id} only if the count does not add up.
 */
final class ShowOutput {
  static final String PROPERTIES = "Id,LoadState,ActiveState,SubState,MainPID";

  private ShowOutput() {}

  /** The status of each unit in {@code asked}; throws IllegalArgumentException naming what is missing. */
  static Map<String, UnitStatus> parse(List<String> asked, String stdout) {
    var blocks = blocks(stdout);
    var result = new LinkedHashMap<String, UnitStatus>();
    if (blocks.size() == asked.size()) {
      for (int i = 0; i < asked.size(); i++) {
        result.put(asked.get(i), status(asked.get(i), blocks.get(i)));
      }
      return result;
    }
    var byId = new HashMap<String, Map<String, String>>();
    for (var block : blocks) {
      byId.put(block.getOrDefault("Id", ""), block);
    }
    for (var unit : asked) {
      var block = byId.get(unit);
      if (block == null) {
        throw new IllegalArgumentException("systemctl show printed " + blocks.size() + " blocks for "
            + asked.size() + " units, none with Id=" + unit);
      }
      result.put(unit, status(unit, block));
    }
    return result;
  }

  private static List<Map<String, String>> blocks(String stdout) {
    var blocks = new ArrayList<Map<String, String>>();
    Map<String, String> current = null;
    for (var line : stdout.split("\n", -1)) {
      if (line.isBlank()) {
        current = null;
        continue;
      }
      if (current == null) {
        current = new HashMap<>();
        blocks.add(current);
      }
      int eq = line.indexOf('=');
      if (eq > 0) {
        current.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return blocks;
  }

  private static UnitStatus status(String unit, Map<String, String> block) {
    String pid = block.getOrDefault("MainPID", "0");
    try {
      return new UnitStatus(required(unit, block, "LoadState"), required(unit, block, "ActiveState"),
          required(unit, block, "SubState"), pid.isEmpty() ? 0 : Long.parseLong(pid));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("systemctl show gave MainPID=" + pid + " for " + unit);
    }
  }

  private static String required(String unit, Map<String, String> block, String key) {
    var value = block.get(key);
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException("systemctl show gave no " + key + " for " + unit + ": " + block);
    }
    return value;
  }
}
