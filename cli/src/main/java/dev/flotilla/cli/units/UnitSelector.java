package dev.flotilla.cli.units;

import dev.flotilla.cli.FctlException;
import dev.flotilla.cli.client.FleetSchema.Unit;
import dev.flotilla.scheduler.fleet.Glob;
import dev.flotilla.scheduler.unit.UnitName;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Picks units already in the cluster by name or glob ({@code fctl destroy 'web@*'}), in the order
 * of the arguments, each once. Every argument must select something: an unknown name or a glob that
 * matches nothing fails the whole selection before anything is changed.
 */
public final class UnitSelector {
  private UnitSelector() {}

  /**
   * @param withTemplates whether globs select templates too (destroy, cat, why); start and stop
   *     skip them, as a template is never scheduled
   */
  public static List<Unit> select(List<String> args, List<Unit> all, boolean withTemplates) {
    Map<String, Unit> byName = new LinkedHashMap<>();
    for (Unit u : all) {
      byName.put(u.name(), u);
    }
    Map<String, Unit> chosen = new LinkedHashMap<>();
    List<String> unknown = new ArrayList<>();
    List<String> unmatched = new ArrayList<>();
    for (String arg : args) {
      if (UnitArgs.isGlob(arg)) {
        String pattern = UnitArgs.baseName(arg);
        Glob glob;
        try {
          glob = Glob.compile(pattern);
        } catch (IllegalArgumentException e) {
          throw new FctlException("bad unit pattern: " + e.getMessage());
        }
        boolean any = false;
        for (Unit u : all) {
          if (glob.matches(u.name()) && (withTemplates || !isTemplate(u.name()))) {
            chosen.putIfAbsent(u.name(), u);
            any = true;
          }
        }
        if (!any) {
          unmatched.add("'" + pattern + "'");
        }
      } else {
        String name = UnitArgs.unitName(arg);
        Unit u = byName.get(name);
        if (u == null) {
          unknown.add(name);
        } else {
          chosen.putIfAbsent(name, u);
        }
      }
    }
    if (!unknown.isEmpty() || !unmatched.isEmpty()) {
      List<String> parts = new ArrayList<>();
      if (unknown.size() == 1) {
        parts.add("unit " + unknown.get(0) + " does not exist");
      } else if (!unknown.isEmpty()) {
        parts.add("units " + String.join(", ", unknown) + " do not exist");
      }
      if (!unmatched.isEmpty()) {
        parts.add("no unit matches " + String.join(", ", unmatched));
      }
      throw new FctlException(String.join("; ", parts) + "; see the units with 'fctl list-unit-files'");
    }
    return new ArrayList<>(chosen.values());
  }

  public static boolean isTemplate(String name) {
    try {
      return UnitName.parse(name).isTemplate();
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
