package dev.flotilla.scheduler.placement;

import dev.flotilla.scheduler.fleet.Glob;
import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.fleet.XFleetOptions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What placement decides against: the machines, the schedule (unit → machine) with each scheduled
 * unit's [X-Fleet] options, and the global units. It keeps the indexes that make a decision cheap
 * at scale: machines ordered by load, machines by metadata, units by host, followers by the unit
 * they follow.
 *
 * <p>It records the world as it is and checks nothing on {@link #assign}: the schedule read from
 * the store may break constraints (a machine's metadata changed, capacity shrank), and
 * {@link Placement#check} is how the reconciler finds out. Not thread-safe; the engine owns one.
 *
 * <p>Load order, used to pick among feasible machines: fewest scheduled units, then lowest
 * dominant reserved share (the larger of reserved CPU / capacity and reserved memory / capacity),
 * then machine ID. Global units are not in the schedule and do not count, as in fleet.
 */
public final class ClusterState {

  /** One machine and what is scheduled on it. */
  static final class Slot {
    Machine machine;
    /** The machine's metadata in a hash map: looked up for every unit placement considers here. */
    Map<String, String> metadata;
    final TreeMap<String, XFleetOptions> units = new TreeMap<>();
    long cpuReserved;
    long memoryReserved;
    long sharePpm;

    Slot(Machine machine) {
      setMachine(machine);
    }

    void setMachine(Machine machine) {
      this.machine = machine;
      this.metadata = new HashMap<>(machine.metadata());
    }

    String id() {
      return machine.id();
    }

    long freeCpu() {
      return machine.capacity().cpuMillis() - cpuReserved;
    }

    long freeMemory() {
      return machine.capacity().memoryBytes() - memoryReserved;
    }

    void recomputeShare() {
      sharePpm = Math.max(share(cpuReserved, machine.capacity().cpuMillis()),
          share(memoryReserved, machine.capacity().memoryBytes()));
    }

    private static long share(long used, long capacity) {
      if (capacity <= 0) {
        return used > 0 ? Long.MAX_VALUE / 2 : 0;
      }
      return (long) (1_000_000.0 * used / capacity);
    }
  }

  /** Written out rather than chained: it runs for every set a slot is in, on every assignment. */
  static final Comparator<Slot> LOAD_ORDER = (a, b) -> {
    if (a == b) {
      return 0;
    }
    int c = Integer.compare(a.units.size(), b.units.size());
    if (c != 0) {
      return c;
    }
    c = Long.compare(a.sharePpm, b.sharePpm);
    return c != 0 ? c : a.id().compareTo(b.id());
  };

  private final TreeMap<String, Slot> machines = new TreeMap<>();
  /** The same slots by hash: looked up on every assignment, where the tree costs string comparisons. */
  private final Map<String, Slot> machinesById = new HashMap<>();
  private final TreeSet<Slot> byLoad = new TreeSet<>(LOAD_ORDER);
  private final Map<String, Slot> hosts = new HashMap<>();
  /** The options of every scheduled unit, by hash (the slots hold them by name, for order). */
  private final Map<String, XFleetOptions> scheduled = new HashMap<>();
  private final Map<String, Set<String>> followers = new HashMap<>();
  private final Map<String, XFleetOptions> globals = new HashMap<>();
  /**
   * The {@code Conflicts=} and {@code Replaces=} globs of scheduled units, by their literal prefix:
   * prefix → glob → machine → the units there that have it.
   */
  private final Map<String, Map<Glob, Map<Slot, TreeSet<String>>>> globsByPrefix = new HashMap<>();
  /** metadata key → value → the machines with it, in load order like {@link #byLoad}. */
  private final Map<String, Map<String, TreeSet<Slot>>> metadataIndex = new HashMap<>();

  public ClusterState() {}

  /** A cluster with these machines and nothing scheduled. */
  public static ClusterState of(Collection<Machine> machines) {
    ClusterState s = new ClusterState();
    machines.forEach(s::putMachine);
    return s;
  }

  /** An independent copy (machines and options are immutable and shared). */
  public ClusterState copy() {
    ClusterState c = new ClusterState();
    for (Slot slot : machines.values()) {
      c.putMachine(slot.machine);
    }
    for (Slot slot : machines.values()) {
      for (XFleetOptions u : slot.units.values()) {
        c.assign(u, slot.id());
      }
    }
    new TreeMap<>(globals).values().forEach(c::putGlobal);
    return c;
  }

  // ---- machines

  /** Adds a machine, or updates its metadata and capacity keeping what is scheduled on it. */
  public void putMachine(Machine machine) {
    Slot slot = machinesById.get(machine.id());
    if (slot == null) {
      slot = new Slot(machine);
      machines.put(machine.id(), slot);
      machinesById.put(machine.id(), slot);
    } else {
      unlist(slot);
      slot.setMachine(machine);
    }
    slot.recomputeShare();
    list(slot);
  }

  /** Removes a machine and unschedules what ran there; returns those units' options, by name. */
  public List<XFleetOptions> removeMachine(String id) {
    Slot slot = machinesById.get(id);
    if (slot == null) {
      return List.of();
    }
    List<XFleetOptions> orphans = new ArrayList<>(slot.units.values());
    for (XFleetOptions u : orphans) {
      unassign(u.unit());
    }
    unlist(slot);
    machines.remove(id);
    machinesById.remove(id);
    return orphans;
  }

  public Optional<Machine> machine(String id) {
    Slot slot = machinesById.get(id);
    return slot == null ? Optional.empty() : Optional.of(slot.machine);
  }

  /** Machines by ID. */
  public List<Machine> machines() {
    List<Machine> out = new ArrayList<>(machines.size());
    machines.values().forEach(s -> out.add(s.machine));
    return out;
  }

  public int machineCount() {
    return machines.size();
  }

  /** What the units scheduled on {@code id} reserve. */
  public Resources reserved(String id) {
    Slot slot = requireSlot(id);
    return new Resources(slot.cpuReserved, slot.memoryReserved);
  }

  // ---- schedule

  /** Records that {@code unit} is scheduled on {@code machineId} (moving it if it was elsewhere). */
  public void assign(XFleetOptions unit, String machineId) {
    if (unit.global()) {
      throw new IllegalArgumentException(unit.unit() + " is global: use putGlobal, global units are not scheduled");
    }
    Slot slot = requireSlot(machineId);
    if (hosts.containsKey(unit.unit())) {
      unassign(unit.unit());
    }
    unlist(slot);
    slot.units.put(unit.unit(), unit);
    slot.cpuReserved += unit.reservation().cpuMillis();
    slot.memoryReserved += unit.reservation().memoryBytes();
    slot.recomputeShare();
    list(slot);
    hosts.put(unit.unit(), slot);
    scheduled.put(unit.unit(), unit);
    for (String target : unit.machineOf()) {
      followers.computeIfAbsent(target, t -> new TreeSet<>()).add(unit.unit());
    }
    indexGlobs(unit, slot, true);
  }

  private void indexGlobs(XFleetOptions unit, Slot slot, boolean add) {
    for (List<Glob> globs : List.of(unit.conflicts(), unit.replaces())) {
      for (Glob g : globs) {
        if (add) {
          globsByPrefix.computeIfAbsent(g.literalPrefix(), p -> new HashMap<>())
              .computeIfAbsent(g, x -> new HashMap<>()).computeIfAbsent(slot, x -> new TreeSet<>()).add(unit.unit());
          continue;
        }
        Map<Glob, Map<Slot, TreeSet<String>>> byGlob = globsByPrefix.get(g.literalPrefix());
        Map<Slot, TreeSet<String>> bySlot = byGlob == null ? null : byGlob.get(g);
        TreeSet<String> having = bySlot == null ? null : bySlot.get(slot);
        if (having != null && having.remove(unit.unit()) && having.isEmpty()) {
          bySlot.remove(slot);
          if (bySlot.isEmpty()) {
            byGlob.remove(g);
            if (byGlob.isEmpty()) {
              globsByPrefix.remove(g.literalPrefix());
            }
          }
        }
      }
    }
  }

  /**
   * The scheduled units whose {@code Conflicts=} or {@code Replaces=} matches {@code unit}'s name,
   * by machine: found from the name's prefixes, without trying every unit's globs.
   */
  Naming naming(String unit) {
    List<Map<Slot, TreeSet<String>>> maps = new ArrayList<>(1);
    if (!globsByPrefix.isEmpty()) {
      for (int k = 0; k <= unit.length(); k++) {
        Map<Glob, Map<Slot, TreeSet<String>>> byGlob = globsByPrefix.get(unit.substring(0, k));
        if (byGlob != null) {
          byGlob.forEach((g, bySlot) -> {
            if (g.matches(unit)) {
              maps.add(bySlot);
            }
          });
        }
      }
    }
    return new Naming(maps, scheduled);
  }

  /** What {@link #naming} found: per machine, the units there whose globs name a unit. */
  static final class Naming {
    private final List<Map<Slot, TreeSet<String>>> maps;
    private final Map<String, XFleetOptions> scheduled;

    private Naming(List<Map<Slot, TreeSet<String>>> maps, Map<String, XFleetOptions> scheduled) {
      this.maps = maps;
      this.scheduled = scheduled;
    }

    boolean anyOn(Slot slot) {
      for (Map<Slot, TreeSet<String>> bySlot : maps) {
        if (bySlot.containsKey(slot)) {
          return true;
        }
      }
      return false;
    }

    /** Adds the units on {@code slot} naming the unit (itself included, if it names itself) to {@code into}. */
    void addOn(Slot slot, Map<String, XFleetOptions> into) {
      for (Map<Slot, TreeSet<String>> bySlot : maps) {
        TreeSet<String> names = bySlot.get(slot);
        if (names != null) {
          for (String n : names) {
            into.put(n, scheduled.get(n)); // n is on slot: the index is kept with the schedule
          }
        }
      }
    }
  }

  /** Unschedules {@code unit}; returns its options if it was scheduled. */
  public Optional<XFleetOptions> unassign(String unit) {
    Slot slot = hosts.remove(unit);
    if (slot == null) {
      return Optional.empty();
    }
    scheduled.remove(unit);
    unlist(slot);
    XFleetOptions u = slot.units.remove(unit);
    slot.cpuReserved -= u.reservation().cpuMillis();
    slot.memoryReserved -= u.reservation().memoryBytes();
    slot.recomputeShare();
    list(slot);
    indexGlobs(u, slot, false);
    for (String target : u.machineOf()) {
      Set<String> f = followers.get(target);
      if (f != null) {
        f.remove(unit);
        if (f.isEmpty()) {
          followers.remove(target);
        }
      }
    }
    return Optional.of(u);
  }

  /** The machine {@code unit} is scheduled on. */
  public Optional<String> hostOf(String unit) {
    Slot slot = hosts.get(unit);
    return slot == null ? Optional.empty() : Optional.of(slot.id());
  }

  public Optional<XFleetOptions> scheduledUnit(String unit) {
    return Optional.ofNullable(scheduled.get(unit));
  }

  /** The options of {@code unit} if it is scheduled on {@code slot}, else null. */
  XFleetOptions unitOn(String unit, Slot slot) {
    return hosts.get(unit) == slot ? scheduled.get(unit) : null;
  }

  /** Units scheduled on {@code machineId}, by name. */
  public List<XFleetOptions> unitsOn(String machineId) {
    return List.copyOf(requireSlot(machineId).units.values());
  }

  /** Scheduled units whose {@code MachineOf=} names {@code unit}, by name. */
  public List<String> followersOf(String unit) {
    Set<String> f = followers.get(unit);
    return f == null ? List.of() : List.copyOf(f);
  }

  /** The whole schedule, unit → machine, by unit name. */
  public SortedMap<String, String> schedule() {
    TreeMap<String, String> out = new TreeMap<>();
    hosts.forEach((u, s) -> out.put(u, s.id()));
    return Collections.unmodifiableSortedMap(out);
  }

  public int scheduledCount() {
    return hosts.size();
  }

  // ---- global units

  /** Records a global unit (it runs on every machine matching its metadata; see {@link Placement#global}). */
  public void putGlobal(XFleetOptions unit) {
    if (!unit.global()) {
      throw new IllegalArgumentException(unit.unit() + " is not global");
    }
    globals.put(unit.unit(), unit);
  }

  public void removeGlobal(String unit) {
    globals.remove(unit);
  }

  public Optional<XFleetOptions> global(String unit) {
    return Optional.ofNullable(globals.get(unit));
  }

  // ---- package-private access for Placement

  Slot slot(String id) {
    return machinesById.get(id);
  }

  Slot hostSlot(String unit) {
    return hosts.get(unit);
  }

  XFleetOptions globalUnit(String unit) {
    return globals.get(unit);
  }

  Collection<Slot> slotsById() {
    return machines.values();
  }

  Collection<Slot> slotsByLoad() {
    return byLoad;
  }

  /** The machines whose {@code key} is {@code value}, in load order. */
  NavigableSet<Slot> machinesWith(String key, String value) {
    Map<String, TreeSet<Slot>> byValue = metadataIndex.get(key);
    if (byValue == null) {
      return Collections.emptyNavigableSet();
    }
    TreeSet<Slot> slots = byValue.get(value);
    return slots == null ? Collections.emptyNavigableSet() : slots;
  }

  private Slot requireSlot(String id) {
    Slot slot = machinesById.get(id);
    if (slot == null) {
      throw new IllegalArgumentException("no machine " + id);
    }
    return slot;
  }

  /**
   * Takes a slot out of the load-ordered sets, before its load or metadata changes (a TreeSet
   * finds an element by the order it was inserted under).
   */
  private void unlist(Slot slot) {
    byLoad.remove(slot);
    slot.machine.metadata().forEach((k, v) -> {
      Map<String, TreeSet<Slot>> byValue = metadataIndex.get(k);
      TreeSet<Slot> slots = byValue.get(v);
      slots.remove(slot);
      if (slots.isEmpty()) {
        byValue.remove(v);
        if (byValue.isEmpty()) {
          metadataIndex.remove(k);
        }
      }
    });
  }

  private void list(Slot slot) {
    byLoad.add(slot);
    slot.machine.metadata().forEach((k, v) -> metadataIndex.computeIfAbsent(k, x -> new HashMap<>())
        .computeIfAbsent(v, x -> new TreeSet<>(LOAD_ORDER)).add(slot));
  }
}
