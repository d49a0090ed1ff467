package dev.flotilla.cli.units;

import dev.flotilla.cli.FctlException;
import dev.flotilla.cli.client.Concurrently;
import dev.flotilla.cli.client.FleetClient;
import dev.flotilla.cli.client.FleetSchema;
import dev.flotilla.cli.client.FleetSchema.Unit;
import dev.flotilla.scheduler.unit.InvalidUnitNameException;
import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitName;
import dev.flotilla.scheduler.unit.UnitOption;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * fleetctl's {@code lazyCreateUnits}: makes sure a unit exists for each argument, taking the first
 * of (1) the unit already in the cluster, (2) a unit file at that path, (3) for an instance, its
 * template in the cluster, (4) its template file next to the path. A glob selects units already
 * in the cluster.
 *
 * <p>Unlike fleetctl, every argument is resolved and every file checked before the first unit is
 * created, so a mistake in the third file leaves the cluster as it was.
 */
public final class UnitSubmitter {
  private final FleetClient client;
  private final PrintWriter out;
  private final PrintWriter err;
  private List<Unit> all;
  /** More arguments than this: look their units up together ({@link FleetClient#unitsNamed}), not one GET each. */
  private static final int MANY = 8;
  private final Map<String, Optional<Unit>> looked = new HashMap<>();
  /** Units the last ensureSubmitted created at its desired state, as the cluster now has them. */
  private final Map<String, Unit> createdWithDesiredState = new HashMap<>();

  public UnitSubmitter(FleetClient client, PrintWriter out, PrintWriter err) {
    this.client = client;
    this.out = out;
    this.err = err;
  }

  /** A unit to create: its name, options, and where they came from (for messages). */
  private record Creation(String name, UnitFile file) {}

  /** Resolves, checks and creates; returns the unit names the arguments stand for, in order. */
  public List<String> ensureSubmitted(List<String> args) {
    return ensureSubmitted(args, null);
  }

  /**
   * {@link #ensureSubmitted(List)}, creating the units that are not templates with
   * {@code desiredState} (null: none, inactive) in the same request, as {@code fctl start} and
   * {@code load} do: one request per new unit instead of a creation and then a state change. The
   * names created so are in {@link #createdWithDesiredState}.
   */
  public List<String> ensureSubmitted(List<String> args, String desiredState) {
    if (args.size() > MANY) {
      lookUpTogether(args);
    }
    Map<String, Creation> plan = new LinkedHashMap<>(); // name → creation, or null when present
    for (String arg : args) {
      if (selectsInCluster(arg)) {
        for (Unit u : UnitSelector.select(List.of(arg), allUnits(), true)) {
          plan.putIfAbsent(u.name(), null);
        }
        continue;
      }
      String path = UnitArgs.withDefaultType(arg);
      String name = UnitArgs.unitName(arg);
      if (plan.containsKey(name)) {
        continue;
      }
      plan.put(name, resolve(arg, path, name, plan));
    }
    List<String> names = new ArrayList<>(plan.keySet());
    List<Creation> creations = plan.values().stream().filter(Objects::nonNull).toList();
    List<RuntimeException> failures = client.putEach(creations.stream()
        .map(c -> FleetClient.creation(c.name(), schemaOptions(c.file()), withState(c.name(), desiredState)))
        .toList(), 201);
    for (int i = 0; i < creations.size(); i++) {
      if (failures.get(i) == null) {
        out.println("Unit " + creations.get(i).name() + " inactive"); // its current state, as fleetctl says
        Creation c = creations.get(i);
        String state = withState(c.name(), desiredState);
        if (state != null) {
          createdWithDesiredState.put(c.name(), new Unit(c.name(), schemaOptions(c.file()), state, "inactive", null, null));
        }
      }
    }
    out.flush();
    Concurrently.throwFirst(failures);
    return names;
  }

  /**
   * The units the last {@link #ensureSubmitted(List, String)} created at its desired state, by name,
   * as created (not scheduled yet, current state inactive).
   */
  public Map<String, Unit> createdWithDesiredState() {
    return Map.copyOf(createdWithDesiredState);
  }

  /** Templates are never activated: they are created without a desired state. */
  private static String withState(String name, String desiredState) {
    return desiredState == null || UnitSelector.isTemplate(name) ? null : desiredState;
  }

  private Creation resolve(String arg, String path, String name, Map<String, Creation> plan) {
    UnitName unitName;
    try {
      unitName = UnitName.parse(name);
    } catch (InvalidUnitNameException e) {
      throw new FctlException(e.getMessage());
    }
    Optional<Unit> existing = lookup(name);
    Path file = Path.of(path);
    if (existing.isPresent()) {
      warnIfDifferent(existing.get(), file);
      return null;
    }
    if (Files.exists(file)) {
      LocalUnitFile local = readRegular(file);
      warn(LocalUnitFile.validate(name, local.file(), local, "file " + file));
      return new Creation(name, local.file());
    }
    if (!unitName.isInstance()) {
      throw new FctlException("unit " + name + " is not in the cluster and there is no unit file " + file
          + "; give the path of its unit file, or see the units with 'fctl list-unit-files'");
    }
    String template = unitName.template().orElseThrow().name();
    Creation planned = plan.get(template);
    if (planned != null) { // the template is submitted by an earlier argument of this command
      warn(LocalUnitFile.validate(name, planned.file(), null, "template " + template));
      return new Creation(name, planned.file());
    }
    Optional<Unit> inCluster = lookup(template);
    if (inCluster.isPresent()) {
      UnitFile options = unitFile(inCluster.get());
      warn(LocalUnitFile.validate(name, options, null, "template " + template + " in the cluster"));
      return new Creation(name, options);
    }
    Path templateFile = file.resolveSibling(template);
    if (Files.exists(templateFile)) {
      LocalUnitFile local = readRegular(templateFile);
      warn(LocalUnitFile.validate(name, local.file(), local, "template file " + templateFile));
      return new Creation(name, local.file());
    }
    throw new FctlException("unit " + name + " is not in the cluster, nor is its template " + template
        + ", and there is no file " + file + " or " + templateFile + "; submit the template first");
  }

  /**
   * Looks up at once the units the arguments name and, for instances, their templates (the
   * lookups {@link #resolve} may make), so that many arguments cost a few requests; from the
   * whole listing when a glob needs it anyway.
   */
  private void lookUpTogether(List<String> args) {
    Set<String> names = new LinkedHashSet<>();
    boolean glob = false;
    for (String arg : args) {
      if (selectsInCluster(arg)) {
        glob = true;
        continue;
      }
      String name = UnitArgs.unitName(arg);
      names.add(name);
      try {
        UnitName.parse(name).template().ifPresent(t -> names.add(t.name()));
      } catch (InvalidUnitNameException e) {
        // resolve says so, for this argument in its turn
      }
    }
    names.removeAll(looked.keySet());
    Map<String, Unit> found = new HashMap<>();
    if (glob) {
      for (Unit u : allUnits()) {
        found.put(u.name(), u);
      }
    } else {
      found.putAll(client.unitsNamed(names));
    }
    for (String name : names) {
      looked.put(name, Optional.ofNullable(found.get(name)));
    }
  }

  /** A glob that selects units in the cluster (not the path of a file that happens to look like one). */
  private static boolean selectsInCluster(String arg) {
    return UnitArgs.isGlob(arg) && !Files.exists(Path.of(arg));
  }

  /** A unit in the cluster, by a GET unless already looked up (a template serves many instances). */
  private Optional<Unit> lookup(String name) {
    return looked.computeIfAbsent(name, client::unit);
  }

  private static LocalUnitFile readRegular(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new FctlException("cannot read unit file " + file + ": not a regular file");
    }
    return LocalUnitFile.read(file);
  }

  private void warnIfDifferent(Unit inCluster, Path file) {
    if (!Files.isRegularFile(file)) {
      return;
    }
    try {
      LocalUnitFile local = LocalUnitFile.read(file);
      if (!local.file().hash().equals(unitFile(inCluster).hash())) {
        err.println("WARNING: Unit " + inCluster.name() + " in the cluster differs from local unit file " + file
            + "; destroy it first to replace it");
      }
    } catch (FctlException | IllegalArgumentException e) {
      err.println("WARNING: Unit " + inCluster.name() + " is in the cluster; local file " + file
          + " is not used (" + e.getMessage() + ")");
    }
  }

  private void warn(List<String> warnings) {
    for (String w : warnings) {
      err.println("WARNING: " + w);
    }
  }

  private List<Unit> allUnits() {
    if (all == null) {
      all = client.units();
    }
    return all;
  }

  /** The scheduler's unit file for a unit's options (for hashes, [X-Fleet] and cat). */
  public static UnitFile unitFile(Unit u) {
    List<UnitOption> options = new ArrayList<>();
    for (FleetSchema.UnitOption o : u.optionList()) {
      options.add(new UnitOption(o.section(), o.name(), o.value() == null ? "" : o.value()));
    }
    return UnitFile.of(options);
  }

  static List<FleetSchema.UnitOption> schemaOptions(UnitFile file) {
    List<FleetSchema.UnitOption> out = new ArrayList<>();
    for (UnitOption o : file.options()) {
      out.add(new FleetSchema.UnitOption(o.section(), o.name(), o.value()));
    }
    return out;
  }
}
