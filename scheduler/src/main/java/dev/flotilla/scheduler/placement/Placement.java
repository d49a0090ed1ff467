package dev.flotilla.scheduler.placement;

import dev.flotilla.scheduler.fleet.MetadataRequirement;
import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.fleet.Glob;
import dev.flotilla.scheduler.fleet.XFleetOptions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.NavigableSet;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Placement of one unit: a pure function of the unit's [X-Fleet] options and a {@link ClusterState}
 * (which it reads and never changes).
 *
 * <p>A machine is feasible when, in this order: it is the {@code MachineID=} machine (if any); it
 * runs every {@code MachineOf=} unit (for a global unit: it is one the global unit runs on); its
 * metadata matches {@code MachineMetadata=}; no unit on it conflicts either way (its
 * {@code Conflicts=} matching this unit, or this unit's matching it) and none {@code Replaces=}
 * this unit; and, counting the resources of units this unit would displace as free, it has the
 * reserved CPU and memory free. Units this unit {@code Replaces=} do not block it: they are
 * displaced. A pair that replace each other is ignored, as fleet does.
 *
 * <p>Among feasible machines the choice is the first in load order (see {@link ClusterState}),
 * preferring machines where nothing has to be displaced: a replaced unit moves only when the unit
 * cannot go elsewhere. (fleet picked purely by load and displaced when the least-loaded machine
 * held a replaced unit.)
 *
 * <p>When no machine is feasible, the decision says why in words for the CLI, from the stage
 * where the last candidates dropped out.
 */
public final class Placement {

  /** A machine that is not feasible: the first check it failed, and what it had. */
  private record Miss(Reason stage, ClusterState.Slot slot, String blocker, boolean replacedBy,
      long freeCpu, long freeMemory) {}

  /** Why a unit cannot stay where it is (for {@link #check}). */
  public record Rejection(Reason reason, String message) {}

  /** Where a global unit runs: every machine matching its metadata. */
  public record GlobalPlacement(String unit, SortedSet<String> machines, Optional<String> whyNone) {}

  /** How many blocked machines a conflicts message lists before "(and N more)". */
  private static final int LISTED = 3;

  /** Up to this many units on a machine, {@link #evaluate} looks at each rather than only at the relevant ones. */
  private static final int FEW_UNITS = 16;

  private static final Comparator<Miss> BY_MACHINE_ID = Comparator.comparing(m -> m.slot().id());

  private Placement() {}

  /** Decides where {@code unit} (not global, not scheduled) goes. */
  public static Decision decide(XFleetOptions unit, ClusterState state) {
    if (unit.global()) {
      throw new IllegalArgumentException(unit.unit() + " is global: use Placement.global");
    }
    if (state.machineCount() == 0) {
      return new Decision.Unschedulable(unit.unit(), Reason.NO_MACHINES, "no machines in the cluster");
    }
    List<String> displaced = new ArrayList<>();
    if (isPinned(unit, state)) {
      // every other machine fails MachineID or MachineOf: only this one needs a look
      ClusterState.Slot pinned = pinnedSlot(unit, state);
      if (pinned == null) {
        return unit.machineId().isPresent()
            ? new Decision.Unschedulable(unit.unit(), Reason.MACHINE_ID, noSuchMachine(unit, state))
            : new Decision.Unschedulable(unit.unit(), Reason.MACHINE_OF, machineOfMessage(unit, state));
      }
      Miss miss = evaluate(unit, pinned, state, displaced);
      if (miss == null) {
        return new Decision.Place(unit.unit(), pinned.id(), displaced);
      }
      return explain(unit, state, miss.stage(), List.of(miss), List.of(miss));
    }
    // walk the machines from the least loaded (only those with the metadata asked for, if any);
    // the first feasible one that displaces nothing wins
    boolean all = unit.metadata().isEmpty();
    ClusterState.Slot displacing = null;
    List<String> displacingWhat = null;
    // when every machine is looked at and none is feasible, the misses are the explanation
    List<Miss> misses = all ? new ArrayList<>() : null;
    ClusterState.Naming naming = state.naming(unit.unit());
    for (ClusterState.Slot slot : all ? state.slotsByLoad() : withMetadata(unit.metadata(), state)) {
      Miss miss = evaluate(unit, slot, state, displaced, naming);
      if (miss == null) {
        if (displaced.isEmpty()) {
          return new Decision.Place(unit.unit(), slot.id(), List.of());
        }
        if (displacing == null) {
          displacing = slot;
          displacingWhat = List.copyOf(displaced);
        }
      } else if (misses != null) {
        misses.add(miss);
      }
    }
    if (displacing != null) {
      return new Decision.Place(unit.unit(), displacing.id(), displacingWhat);
    }
    if (misses != null) {
      misses.sort(BY_MACHINE_ID);
      return explain(unit, state, misses);
    }
    return explain(unit, state, naming);
  }

  /**
   * Whether {@code unit}, scheduled on {@code machineId}, may stay there given everything else
   * (its own reservation counted as free). Empty when it may; the reconciler unschedules it
   * otherwise. Units it replaces on that machine do not make it leave: they leave.
   */
  public static Optional<Rejection> check(XFleetOptions unit, String machineId, ClusterState state) {
    if (unit.global()) {
      throw new IllegalArgumentException(unit.unit() + " is global: use Placement.global");
    }
    ClusterState.Slot slot = state.slot(machineId);
    if (slot == null) {
      return Optional.of(new Rejection(Reason.NO_MACHINES, "machine " + machineId + " is gone"));
    }
    // only the units there that can matter, as for decide: a full pass checks every scheduled unit
    Miss miss = evaluate(unit, slot, state, new ArrayList<>(), state.naming(unit.unit()));
    if (miss == null) {
      return Optional.empty();
    }
    String where = "machine " + machineId;
    String message = switch (miss.stage()) {
      case NO_MACHINES -> where + " is gone";
      case MACHINE_ID -> "MachineID=" + unit.machineId().orElse("") + " is not " + where;
      case MACHINE_OF -> "MachineOf=" + miss.blocker() + ": " + machineOfStatus(miss.blocker(), state)
          .orElseGet(() -> state.hostOf(miss.blocker())
              .map(h -> miss.blocker() + " is on " + h + ", not " + machineId)
              .orElse(where + " does not run " + miss.blocker()));
      case METADATA -> where + " does not have metadata " + unit.metadata().describe();
      case CONFLICTS -> (miss.replacedBy() ? "replaced by " : "conflicts with ") + miss.blocker() + " on " + where;
      case RESOURCES -> "needs " + describeNeed(unit.reservation()) + ", " + where + " has "
          + describeFree(miss.freeCpu(), miss.freeMemory(), unit.reservation()) + " free";
    };
    return Optional.of(new Rejection(miss.stage(), message));
  }

  /** The machines a global unit runs on: those matching its {@code MachineMetadata=}. */
  public static GlobalPlacement global(XFleetOptions unit, ClusterState state) {
    if (!unit.global()) {
      throw new IllegalArgumentException(unit.unit() + " is not global: use Placement.decide");
    }
    TreeSet<String> ids = new TreeSet<>();
    for (ClusterState.Slot slot : state.slotsById()) {
      if (unit.metadata().matches(slot.metadata)) {
        ids.add(slot.id());
      }
    }
    Optional<String> why = Optional.empty();
    if (ids.isEmpty()) {
      why = Optional.of(state.machineCount() == 0 ? "no machines in the cluster"
          : noMetadataMessage(unit.metadata(), state.slotsById()));
    }
    return new GlobalPlacement(unit.unit(), ids, why);
  }

  // ---- feasibility

  /** Checks one machine. Null when feasible; {@code displaced} then holds the units to move. */
  private static Miss evaluate(XFleetOptions u, ClusterState.Slot slot, ClusterState state, List<String> displaced) {
    return evaluate(u, slot, state, displaced, null);
  }

  /**
   * Whether {@code u} may go on {@code slot}; null when it may (with the units it would displace in
   * {@code displaced}), else where it failed. With {@code naming} ({@link ClusterState#naming} of
   * {@code u}; null: look at every unit) only the units on the machine that can matter are looked
   * at — {@code u} itself, those whose globs name it, those its globs match — in name order as
   * always; the others cannot conflict with, replace or be replaced by {@code u}. A machine runs
   * ~100 units in a large cluster, and a unit may be tried on every machine.
   */
  private static Miss evaluate(XFleetOptions u, ClusterState.Slot slot, ClusterState state, List<String> displaced,
      ClusterState.Naming naming) {
    displaced.clear();
    if (u.machineId().isPresent() && !u.machineId().get().equals(slot.id())) {
      return new Miss(Reason.MACHINE_ID, slot, null, false, 0, 0);
    }
    List<String> machineOf = u.machineOf();
    for (int i = 0, n = machineOf.size(); i < n; i++) { // by index: no iterator per machine tried
      String target = machineOf.get(i);
      XFleetOptions g = state.globalUnit(target);
      boolean ok = g != null ? g.metadata().matches(slot.metadata) : state.hostSlot(target) == slot;
      if (!ok) {
        return new Miss(Reason.MACHINE_OF, slot, target, false, 0, 0);
      }
    }
    if (!u.metadata().matches(slot.metadata)) {
      return new Miss(Reason.METADATA, slot, null, false, 0, 0);
    }
    long freeCpu = slot.freeCpu();
    long freeMemory = slot.freeMemory();
    // on a machine with few units, looking at each is cheaper than finding the few that matter
    boolean each = naming == null || slot.units.size() <= FEW_UNITS;
    for (XFleetOptions other : each ? slot.units.values() : relevant(u, slot, state, naming)) {
      String name = other.unit();
      if (name.equals(u.unit())) { // checking an existing assignment: its own share is free
        freeCpu += other.reservation().cpuMillis();
        freeMemory += other.reservation().memoryBytes();
        continue;
      }
      boolean replacesOther = u.replaces(name);
      boolean replacedByOther = other.replaces(u.unit());
      if (replacesOther && !replacedByOther) {
        if (u.machineOf().contains(name) || takesAlong(name, u.machineOf(), state)) {
          // never push away what it must follow: directly (refused at submit), or because what it
          // follows follows the displaced unit and would leave with it
          displaced.clear();
          return new Miss(Reason.CONFLICTS, slot, name, false, 0, 0);
        }
        displaced.add(name);
        freeCpu += other.reservation().cpuMillis();
        freeMemory += other.reservation().memoryBytes();
        continue;
      }
      if (replacedByOther && !replacesOther) {
        displaced.clear();
        return new Miss(Reason.CONFLICTS, slot, name, true, 0, 0);
      }
      if (u.conflictsWith(name) || other.conflictsWith(u.unit())) {
        displaced.clear();
        return new Miss(Reason.CONFLICTS, slot, name, false, 0, 0);
      }
    }
    Resources need = u.reservation();
    if (need.cpuMillis() > freeCpu || need.memoryBytes() > freeMemory) {
      displaced.clear();
      return new Miss(Reason.RESOURCES, slot, null, false, freeCpu, freeMemory);
    }
    return null;
  }

  /** The units on {@code slot} that {@code u} may interact with, by name: itself, those naming it, those it names. */
  private static java.util.Collection<XFleetOptions> relevant(XFleetOptions u, ClusterState.Slot slot,
      ClusterState state, ClusterState.Naming naming) {
    TreeMap<String, XFleetOptions> out = null; // most machines have none: nothing allocated
    // where the unit is, from the hash of hosts: a look-up in the slot's name-ordered map costs
    // a string comparison per level, and the unit being placed is on no machine
    XFleetOptions self = state.unitOn(u.unit(), slot);
    if (self != null) {
      out = new TreeMap<>();
      out.put(self.unit(), self);
    }
    if (naming.anyOn(slot)) {
      out = out == null ? new TreeMap<>() : out;
      naming.addOn(slot, out);
    }
    out = addMatching(u.conflicts(), slot, out);
    out = addMatching(u.replaces(), slot, out);
    return out == null ? List.of() : out.values();
  }

  /** Adds the units on {@code slot} that one of {@code globs} matches to {@code out} (made when first needed). */
  private static TreeMap<String, XFleetOptions> addMatching(List<Glob> globs, ClusterState.Slot slot,
      TreeMap<String, XFleetOptions> out) {
    for (int i = 0, n = globs.size(); i < n; i++) {
      Glob g = globs.get(i);
      String p = g.literalPrefix();
      for (Map.Entry<String, XFleetOptions> e : slot.units.subMap(p, true, p + Character.MAX_VALUE, true).entrySet()) {
        if (g.matches(e.getKey())) {
          out = out == null ? new TreeMap<>() : out;
          out.put(e.getKey(), e.getValue());
        }
      }
    }
    return out;
  }

  /** Whether one of {@code targets} follows {@code unit}, directly or through others (so moves with it). */
  private static boolean takesAlong(String unit, List<String> targets, ClusterState state) {
    if (targets.isEmpty()) {
      return false;
    }
    ArrayDeque<String> todo = new ArrayDeque<>(state.followersOf(unit));
    HashSet<String> seen = new HashSet<>();
    while (!todo.isEmpty()) {
      String f = todo.poll();
      if (!seen.add(f)) {
        continue;
      }
      if (targets.contains(f)) {
        return true;
      }
      todo.addAll(state.followersOf(f));
    }
    return false;
  }

  /** The one machine MachineID or a (non-global) MachineOf unit pins the unit to, if present. */
  private static ClusterState.Slot pinnedSlot(XFleetOptions u, ClusterState state) {
    if (u.machineId().isPresent()) {
      return state.slot(u.machineId().get());
    }
    for (String target : u.machineOf()) {
      if (state.globalUnit(target) == null) {
        return state.hostSlot(target);
      }
    }
    return null;
  }

  private static boolean isPinned(XFleetOptions u, ClusterState state) {
    if (u.machineId().isPresent()) {
      return true;
    }
    for (String target : u.machineOf()) {
      if (state.globalUnit(target) == null) {
        return true;
      }
    }
    return false;
  }

  /**
   * The machines that have one of the values {@code md} allows for its most selective key, in
   * load order: the per-value sets of the metadata index (each already in load order) merged. The
   * other keys are left to {@link #evaluate}.
   */
  private static Iterable<ClusterState.Slot> withMetadata(MetadataRequirement md, ClusterState state) {
    String bestKey = null;
    int bestSize = Integer.MAX_VALUE;
    for (Map.Entry<String, SortedSet<String>> e : md.allowed().entrySet()) {
      int size = 0;
      for (String value : e.getValue()) {
        size += state.machinesWith(e.getKey(), value).size();
      }
      if (size < bestSize) {
        bestSize = size;
        bestKey = e.getKey();
      }
    }
    List<NavigableSet<ClusterState.Slot>> sets = new ArrayList<>();
    for (String value : md.allowed().get(bestKey)) {
      NavigableSet<ClusterState.Slot> slots = state.machinesWith(bestKey, value);
      if (!slots.isEmpty()) {
        sets.add(slots);
      }
    }
    if (sets.size() <= 1) {
      return sets.isEmpty() ? List.of() : sets.get(0);
    }
    return () -> new MergedByLoad(sets);
  }

  /** Merges load-ordered sets that share no machine (one machine has one value per key). */
  private static final class MergedByLoad implements Iterator<ClusterState.Slot> {
    private record Head(ClusterState.Slot slot, Iterator<ClusterState.Slot> rest) {}

    private final PriorityQueue<Head> heads =
        new PriorityQueue<>((a, b) -> ClusterState.LOAD_ORDER.compare(a.slot(), b.slot()));

    MergedByLoad(List<NavigableSet<ClusterState.Slot>> sets) {
      for (NavigableSet<ClusterState.Slot> set : sets) {
        Iterator<ClusterState.Slot> it = set.iterator();
        heads.add(new Head(it.next(), it));
      }
    }

    @Override
    public boolean hasNext() {
      return !heads.isEmpty();
    }

    @Override
    public ClusterState.Slot next() {
      Head h = heads.poll();
      if (h == null) {
        throw new NoSuchElementException();
      }
      if (h.rest().hasNext()) {
        heads.add(new Head(h.rest().next(), h.rest()));
      }
      return h.slot();
    }
  }

  // ---- explaining

  /** Evaluates every machine (by ID) to say why none is feasible. */
  private static Decision.Unschedulable explain(XFleetOptions u, ClusterState state, ClusterState.Naming naming) {
    List<Miss> misses = new ArrayList<>();
    List<String> scratch = new ArrayList<>();
    for (ClusterState.Slot slot : state.slotsById()) {
      Miss m = evaluate(u, slot, state, scratch, naming);
      if (m == null) {
        throw new IllegalStateException("explain() found " + slot.id() + " feasible for " + u.unit());
      }
      misses.add(m);
    }
    return explain(u, state, misses);
  }

  /** Explains from every machine's miss, by machine ID. */
  private static Decision.Unschedulable explain(XFleetOptions u, ClusterState state, List<Miss> misses) {
    Reason worst = Reason.NO_MACHINES;
    for (Miss m : misses) {
      if (m.stage().compareTo(worst) > 0) {
        worst = m.stage();
      }
    }
    List<Miss> last = new ArrayList<>();
    for (Miss m : misses) {
      if (m.stage() == worst) {
        last.add(m);
      }
    }
    return explain(u, state, worst, misses, last);
  }

  /**
   * The message for the stage {@code worst} where the last machines dropped out; {@code last}
   * are those machines' misses, {@code misses} all the misses looked at (by machine ID).
   */
  private static Decision.Unschedulable explain(XFleetOptions u, ClusterState state, Reason worst, List<Miss> misses,
      List<Miss> last) {
    String pin = pinDescription(u, state, last);
    String message = switch (worst) {
      case NO_MACHINES -> "no machines in the cluster";
      case MACHINE_ID -> noSuchMachine(u, state);
      case MACHINE_OF -> machineOfMessage(u, state);
      case METADATA -> pin != null
          ? pin + " does not have metadata " + u.metadata().describe()
          : noMetadataMessage(u.metadata(), slotsOf(missesPast(misses, Reason.MACHINE_OF)));
      case CONFLICTS -> conflictsMessage(last, pin);
      case RESOURCES -> resourcesMessage(u.reservation(), last, pin);
    };
    return new Decision.Unschedulable(u.unit(), worst, message);
  }

  private static String noSuchMachine(XFleetOptions u, ClusterState state) {
    return "MachineID=" + u.machineId().orElseThrow() + ": no such machine among the " + state.machineCount()
        + " machines";
  }

  private static List<Miss> missesPast(List<Miss> misses, Reason stage) {
    List<Miss> out = new ArrayList<>();
    for (Miss m : misses) {
      if (m.stage().compareTo(stage) > 0) {
        out.add(m);
      }
    }
    return out;
  }

  private static List<ClusterState.Slot> slotsOf(List<Miss> misses) {
    List<ClusterState.Slot> out = new ArrayList<>(misses.size());
    misses.forEach(m -> out.add(m.slot()));
    return out;
  }

  /** "machine m1 (MachineID)" or "machine m1, where db.service runs (MachineOf)" when pinned. */
  private static String pinDescription(XFleetOptions u, ClusterState state, List<Miss> last) {
    if (last.size() != 1) {
      return null;
    }
    String id = last.get(0).slot().id();
    if (u.machineId().isPresent()) {
      return "machine " + id + " (MachineID)";
    }
    for (String target : u.machineOf()) {
      if (state.globalUnit(target) == null) {
        return "machine " + id + ", where " + target + " runs (MachineOf),";
      }
    }
    return null;
  }

  private static String machineOfMessage(XFleetOptions u, ClusterState state) {
    TreeMap<String, String> hosts = new TreeMap<>();
    for (String target : u.machineOf()) {
      Optional<String> problem = machineOfStatus(target, state);
      if (problem.isPresent()) {
        return "MachineOf=" + target + ": " + problem.get();
      }
      XFleetOptions g = state.globalUnit(target);
      hosts.put(target, g != null ? "every machine with " + g.metadata().describe() : state.hostOf(target).orElseThrow());
    }
    List<String> parts = new ArrayList<>();
    hosts.forEach((t, h) -> parts.add(t + " on " + h));
    return "the MachineOf units are not on one machine: " + String.join(", ", parts);
  }

  /** Why a MachineOf target offers no machine, or empty if it is somewhere. */
  private static Optional<String> machineOfStatus(String target, ClusterState state) {
    XFleetOptions g = state.globalUnit(target);
    if (g != null) {
      return global(g, state).machines().isEmpty()
          ? Optional.of(target + " is a global unit that runs on no machine") : Optional.empty();
    }
    return state.hostOf(target).isPresent() ? Optional.empty() : Optional.of(target + " is not scheduled");
  }

  /** "no machine has metadata region=us-east", naming the keys no machine satisfies on its own. */
  private static String noMetadataMessage(MetadataRequirement md, Collection<ClusterState.Slot> slots) {
    List<String> missing = new ArrayList<>();
    for (String key : md.allowed().keySet()) {
      boolean any = false;
      for (ClusterState.Slot s : slots) {
        if (md.matchesKey(key, s.metadata)) {
          any = true;
          break;
        }
      }
      if (!any) {
        missing.add(md.allowed().size() > 1 && md.allowed().get(key).size() > 1
            ? "(" + md.describe(key) + ")" : md.describe(key));
      }
    }
    if (!missing.isEmpty()) {
      return "no machine has metadata " + String.join(" and ", missing);
    }
    return "no machine has metadata " + md.describe() + " together";
  }

  private static String conflictsMessage(List<Miss> last, String pin) {
    TreeMap<String, List<String>> byBlocker = new TreeMap<>();
    for (Miss m : last) {
      String what = (m.replacedBy() ? "replaced by " : "conflicts with ") + m.blocker();
      byBlocker.computeIfAbsent(what, k -> new ArrayList<>()).add(m.slot().id());
    }
    if (pin != null) {
      return byBlocker.firstKey() + " on " + pin.replaceAll(",$", "");
    }
    if (byBlocker.size() == 1) {
      return byBlocker.firstKey() + " on every eligible machine";
    }
    List<String> parts = new ArrayList<>();
    for (Miss m : last) {
      if (parts.size() == LISTED) {
        break;
      }
      parts.add((m.replacedBy() ? "replaced by " : "") + m.blocker() + " on " + m.slot().id());
    }
    String more = last.size() > LISTED ? " (and " + (last.size() - LISTED) + " more)" : "";
    return "conflicts on every eligible machine: " + String.join(", ", parts) + more;
  }

  private static String resourcesMessage(Resources need, List<Miss> last, String pin) {
    if (pin != null) {
      Miss m = last.get(0);
      return "needs " + describeNeed(need) + ", " + pin.replaceAll(",$", "") + " has "
          + describeFree(m.freeCpu(), m.freeMemory(), need) + " free";
    }
    long maxCpu = Long.MIN_VALUE;
    long maxMemory = Long.MIN_VALUE;
    for (Miss m : last) {
      maxCpu = Math.max(maxCpu, m.freeCpu());
      maxMemory = Math.max(maxMemory, m.freeMemory());
    }
    boolean cpuShort = need.cpuMillis() > maxCpu;
    boolean memoryShort = need.memoryBytes() > maxMemory;
    if (memoryShort && cpuShort) {
      return "needs " + describeNeed(need) + ", most free is " + Resources.formatMemory(Math.max(0, maxMemory))
          + " memory and " + Resources.formatCpu(Math.max(0, maxCpu));
    }
    if (memoryShort) {
      return "needs " + Resources.formatMemory(need.memoryBytes()) + " memory, most free is "
          + Resources.formatMemory(Math.max(0, maxMemory));
    }
    if (cpuShort) {
      return "needs " + Resources.formatCpu(need.cpuMillis()) + ", most free is " + Resources.formatCpu(Math.max(0, maxCpu));
    }
    long cpuWhereMemoryFits = 0;
    for (Miss m : last) {
      if (m.freeMemory() >= need.memoryBytes()) {
        cpuWhereMemoryFits = Math.max(cpuWhereMemoryFits, m.freeCpu());
      }
    }
    return "needs " + describeNeed(need) + " on one machine; machines with "
        + Resources.formatMemory(need.memoryBytes()) + " free have at most " + Resources.formatCpu(cpuWhereMemoryFits)
        + " free";
  }

  private static String describeNeed(Resources need) {
    if (need.cpuMillis() > 0 && need.memoryBytes() > 0) {
      return Resources.formatMemory(need.memoryBytes()) + " memory and " + Resources.formatCpu(need.cpuMillis());
    }
    return need.memoryBytes() > 0 ? Resources.formatMemory(need.memoryBytes()) + " memory"
        : Resources.formatCpu(need.cpuMillis());
  }

  private static String describeFree(long cpu, long memory, Resources need) {
    cpu = Math.max(0, cpu);
    memory = Math.max(0, memory);
    if (need.cpuMillis() > 0 && need.memoryBytes() > 0) {
      return Resources.formatMemory(memory) + " memory and " + Resources.formatCpu(cpu);
    }
    return need.memoryBytes() > 0 ? Resources.formatMemory(memory) : Resources.formatCpu(cpu);
  }
}
