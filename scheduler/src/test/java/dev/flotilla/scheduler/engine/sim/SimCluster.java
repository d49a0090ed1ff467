package dev.flotilla.scheduler.engine.sim;

import dev.flotilla.scheduler.engine.Engine;
import dev.flotilla.scheduler.engine.EngineRegistry;
import dev.flotilla.scheduler.engine.MemoryEngineLease;
import dev.flotilla.scheduler.fleet.InvalidUnitException;
import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.fleet.XFleetOptions;
import dev.flotilla.scheduler.registry.DesiredState;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.UnitRecord;
import dev.flotilla.scheduler.registry.Versioned;
import dev.flotilla.scheduler.registry.memory.MemoryRegistry;
import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitName;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * A simulated fleet cluster on one seed: a clock the test owns, the in-memory registry, agents that
 * publish their machine's presence until they die (and may come back), engines competing for one
 * in-memory lease, and a random workload (units with every kind of [X-Fleet] constraint, desired
 * state changes, destroys, metadata patches). Everything is deterministic for a seed.
 *
 * <p>Reusable by any engine test: build one, call {@link #step} (one simulated second of random
 * activity, then the engines) or the individual actions, and check {@link SimInvariants}.
 */
public final class SimCluster {

  public static final long SECOND = 1_000_000_000L;
  static final long GIB = 1L << 30;
  private static final String[] CPUS = {"0.125", "0.25", "0.5", "1", "1.5", "2", "50%"};

  /** One machine's agent: alive agents publish every third of the TTL. */
  public static final class Agent {
    final String id;
    Map<String, String> metadata;
    Resources capacity;
    boolean alive = true;
    long lastPublish = Long.MIN_VALUE;

    Agent(String id, Map<String, String> metadata, Resources capacity) {
      this.id = id;
      this.metadata = metadata;
      this.capacity = capacity;
    }

    MachineRecord record() {
      return new MachineRecord(id, "10.0.0." + id.substring(1), metadata, capacity, "sim");
    }
  }

  /** One engine process: a dead one is never called again; a paused one is called late. */
  public static final class EngineProc {
    public final Engine engine;
    boolean alive = true;
    long pausedUntil = 0;
    long deadline = 0;

    EngineProc(Engine engine) {
      this.engine = engine;
    }
  }

  public final long seed;
  public final Random random;
  public long now = 1_000 * SECOND;
  public final long machineTtlSeconds;
  public final MemoryRegistry registry;
  public final MemoryEngineLease lease;
  public final TreeMap<String, Agent> agents = new TreeMap<>();
  public final List<EngineProc> engines = new ArrayList<>();
  /** Parsed [X-Fleet] options by unit name, for the checks (names are never reused). */
  final Map<String, XFleetOptions> parsed = new HashMap<>();
  private final List<String> dbs = new ArrayList<>();
  private final List<String> globals = new ArrayList<>();
  private final List<String> sides = new ArrayList<>();
  private int nextMachine;
  private int nextUnit;

  public SimCluster(long seed, int engineCount, long machineTtlSeconds, long leaseTtlSeconds) {
    this.seed = seed;
    this.random = new Random(seed);
    this.machineTtlSeconds = machineTtlSeconds;
    this.registry = new MemoryRegistry(() -> now);
    this.lease = new MemoryEngineLease(leaseTtlSeconds * SECOND);
    EngineRegistry reg = new EngineRegistry(registry, registry, registry, registry::watch);
    for (int i = 0; i < engineCount; i++) {
      engines.add(new EngineProc(new Engine("engine-" + i, reg, lease,
          new Engine.Config(30 * SECOND, 1 + random.nextInt(500)))));
    }
  }

  // ---- machines

  public Agent addMachine() {
    String id = String.format("m%02d", nextMachine++);
    Agent a = new Agent(id, randomMetadata(), randomCapacity());
    agents.put(id, a);
    publish(a);
    return a;
  }

  public void kill(String machineId) {
    agents.get(machineId).alive = false;
  }

  /** The agent comes back (maybe with other metadata) and publishes at once. */
  public void revive(String machineId, boolean newMetadata) {
    Agent a = agents.get(machineId);
    a.alive = true;
    if (newMetadata) {
      a.metadata = randomMetadata();
    }
    publish(a);
  }

  /** An operator's metadata PATCH: the agent adopts it too (it would re-publish it otherwise). */
  public void patchMetadata(String machineId) {
    Agent a = agents.get(machineId);
    Map<String, String> md = randomMetadata();
    if (registry.setMetadata(machineId, md)) {
      a.metadata = md;
    }
  }

  private void publish(Agent a) {
    registry.publish(a.record(), machineTtlSeconds);
    a.lastPublish = now;
  }

  private Map<String, String> randomMetadata() {
    Map<String, String> md = new HashMap<>();
    if (random.nextInt(5) != 0) {
      md.put("region", random.nextBoolean() ? "east" : "west");
    }
    if (random.nextBoolean()) {
      md.put("disk", random.nextInt(3) == 0 ? "ssd" : "hdd");
    }
    return md;
  }

  private Resources randomCapacity() {
    return new Resources(1000L * (1 + random.nextInt(4)), GIB * (1 + random.nextInt(8)));
  }

  // ---- units

  /** Submits a random valid unit (desired state random too); returns its name. */
  public String submitRandomUnit() {
    for (int attempt = 0; attempt < 20; attempt++) {
      int n = nextUnit++;
      String name;
      StringBuilder xf = new StringBuilder();
      int kind = random.nextInt(10);
      switch (kind) {
        case 0, 1 -> { // spread instances of a self-conflicting template
          name = "web@" + n + ".service";
          xf.append("Conflicts=web@*.service\n");
        }
        case 2 -> { // a sidecar next to a db unit (mostly one submitted before; it may be unplaceable)
          name = "side-" + n + ".service";
          xf.append("MachineOf=").append(pick(dbs, "db-" + (n + 1000) + ".service")).append('\n');
        }
        case 3 -> {
          name = "g-" + n + ".service";
          xf.append("Global=true\n");
          if (random.nextBoolean()) {
            xf.append("MachineMetadata=region=").append(random.nextBoolean() ? "east" : "west").append('\n');
          }
        }
        case 4 -> {
          name = "pin-" + n + ".service";
          xf.append("MachineID=m").append(String.format("%02d", random.nextInt(Math.max(1, nextMachine + 2))))
              .append('\n');
        }
        case 5 -> {
          name = "rep-" + n + ".service";
          xf.append("Replaces=db-*.service\n");
          if (!sides.isEmpty() && random.nextInt(3) == 0) {
            // next to a sidecar of a db unit it replaces: it must not push that db away
            xf.append("MachineOf=").append(sides.get(random.nextInt(sides.size()))).append('\n');
          }
        }
        case 6 -> {
          name = "g-side-" + n + ".service"; // next to a global unit: anywhere it runs
          xf.append("MachineOf=").append(pick(globals, "g-" + (n + 1000) + ".service")).append('\n');
        }
        default -> {
          name = "db-" + n + ".service";
          if (random.nextInt(3) == 0) {
            xf.append("Conflicts=db-*.service\n");
          }
        }
      }
      if (kind != 3 && random.nextInt(3) == 0) {
        xf.append("MachineMetadata=disk=").append(random.nextInt(3) == 0 ? "ssd" : "hdd").append('\n');
      }
      if (kind != 3 && random.nextInt(2) == 0) {
        xf.append("CPUReservation=").append(CPUS[random.nextInt(CPUS.length)]).append('\n');
      }
      if (kind != 3 && random.nextInt(2) == 0) {
        xf.append("MemoryReservation=").append(256 * (1 + random.nextInt(12))).append("M\n");
      }
      String text = "[Unit]\nDescription=simulated " + name + "\n\n[Service]\nExecStart=/bin/sleep 1000\n\n[X-Fleet]\n" + xf;
      UnitFile file = UnitFile.parse(text);
      UnitName unitName = UnitName.parse(name);
      try {
        XFleetOptions.parse(unitName, file);
      } catch (InvalidUnitException e) {
        continue; // the API refuses it at submit; the workload skips it too
      }
      DesiredState desired = DesiredState.values()[random.nextInt(3)];
      // a unit is created inactive and moved one step at a time, as through the API
      registry.create(new UnitRecord(unitName, file, DesiredState.INACTIVE));
      moveTo(name, desired);
      if (name.startsWith("db-")) {
        dbs.add(name);
      } else if (name.startsWith("side-")) {
        sides.add(name);
      } else if (name.startsWith("g-") && !name.startsWith("g-side-")) {
        globals.add(name);
      }
      if (kind <= 1 && random.nextInt(10) == 0 && registry.unit("web@.service").isEmpty()) {
        // the template itself: stored, never scheduled, whatever its desired state
        registry.create(new UnitRecord(UnitName.parse("web@.service"), file, DesiredState.INACTIVE));
      }
      return name;
    }
    throw new IllegalStateException("no valid unit in 20 attempts");
  }

  /** Moves a unit's desired state toward {@code target} one neighbouring step at a time. */
  public void moveTo(String name, DesiredState target) {
    while (true) {
      Versioned<UnitRecord> v = registry.unit(name).orElse(null);
      if (v == null || v.value().desiredState() == target) {
        return;
      }
      registry.setDesiredState(name, v.value().desiredState().stepToward(target), v.modRevision());
    }
  }

  /** Mostly one of {@code names}; sometimes (or when there is none) {@code missing}. */
  private String pick(List<String> names, String missing) {
    return names.isEmpty() || random.nextInt(5) == 0 ? missing : names.get(random.nextInt(names.size()));
  }

  private String randomUnit() {
    List<Versioned<UnitRecord>> all = registry.units();
    return all.isEmpty() ? null : all.get(random.nextInt(all.size())).value().name().name();
  }

  private String randomAgent(boolean alive) {
    List<String> ids = new ArrayList<>();
    agents.forEach((id, a) -> {
      if (a.alive == alive) {
        ids.add(id);
      }
    });
    return ids.isEmpty() ? null : ids.get(random.nextInt(ids.size()));
  }

  // ---- time

  /**
   * One simulated second: a few random actions, agents publishing, then every live engine that is
   * due (or that leads: watch events wake the leader) runs until it has nothing left to do now.
   */
  public void step() {
    now += SECOND;
    int actions = random.nextInt(3);
    for (int i = 0; i < actions; i++) {
      randomAction();
    }
    heartbeats();
    runEngines();
  }

  /** Advances the clock without random activity (agents still publish, engines still run). */
  public void quietStep() {
    now += SECOND;
    heartbeats();
    runEngines();
  }

  private void randomAction() {
    int r = random.nextInt(100);
    if (r < 30) {
      submitRandomUnit();
    } else if (r < 50) {
      String u = randomUnit();
      if (u != null) {
        moveTo(u, DesiredState.values()[random.nextInt(3)]);
      }
    } else if (r < 56) {
      String u = randomUnit();
      if (u != null) {
        registry.destroy(u);
      }
    } else if (r < 64) {
      String m = randomAgent(true);
      if (m != null && agents.values().stream().filter(a -> a.alive).count() > 1) {
        kill(m);
      }
    } else if (r < 72) {
      String m = randomAgent(false);
      if (m != null) {
        revive(m, random.nextInt(4) == 0);
      }
    } else if (r < 76) {
      String m = randomAgent(true);
      if (m != null) {
        patchMetadata(m);
      }
    } else if (r < 79) {
      if (agents.size() < 16) {
        addMachine();
      }
    } else if (r < 80) {
      registry.breakWatches(); // as a compaction past the engine's watch
    }
  }

  public void heartbeats() {
    for (Agent a : agents.values()) {
      if (a.alive && now - a.lastPublish >= machineTtlSeconds * SECOND / 3) {
        publish(a);
      }
    }
  }

  public void runEngines() {
    for (EngineProc p : engines) {
      if (!p.alive || now - p.pausedUntil < 0) {
        continue;
      }
      if (!p.engine.isLeader() && now - p.deadline < 0) {
        continue; // a follower sleeps until the lease it saw expires
      }
      for (int i = 0; ; i++) {
        p.deadline = p.engine.reconcile(now);
        if (p.deadline - now > 0) {
          break;
        }
        if (i > 1000) {
          throw new AssertionError(p.engine.id() + " wants to run again at once after 1000 rounds at t=" + now);
        }
      }
    }
  }

  /** The live engine that leads, or null. */
  public EngineProc leader() {
    for (EngineProc p : engines) {
      if (p.alive && p.engine.isLeader() && now - p.pausedUntil >= 0) {
        return p;
      }
    }
    return null;
  }

  public void killEngine(EngineProc p) {
    p.alive = false;
  }

  /** The process stops being scheduled until {@code until} (a GC pause, a stopped VM). */
  public void pauseEngine(EngineProc p, long until) {
    p.pausedUntil = until;
  }

  /** How to run this seed again. */
  public String replay(String testClass) {
    String method = testClass.equals("EngineFailoverTest") ? "#anotherEngineTakesOverWithinOneLeaseTtl" : "";
    return "seed=" + seed + " at t=" + (now / SECOND) + "s; replay: mvn -o -q -pl scheduler test -Dtest=" + testClass
        + method + " -Dsim.seed=" + seed;
  }
}
