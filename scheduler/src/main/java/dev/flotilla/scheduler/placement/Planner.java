package dev.flotilla.scheduler.placement;

import dev.flotilla.scheduler.fleet.XFleetOptions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Places a batch of units one after another on a {@link ClusterState}, applying each decision
 * before the next (so the batch spreads out as load changes), and carries out what a decision
 * implies:
 *
 * <ul>
 *   <li>a unit whose {@code MachineOf=} unit is later in the batch waits for it (a dependency
 *       order is found by retrying until no more progress, so {@code a MachineOf b} works in any
 *       input order; a cycle stays unscheduled);</li>
 *   <li>units a placed unit {@code Replaces=} are unscheduled and placed again, with the units that
 *       follow them through {@code MachineOf=} (they can not return: the replacing unit blocks
 *       them there).</li>
 * </ul>
 *
 * <p>Deterministic: the same batch on the same state gives the same plan.
 */
public final class Planner {

  /**
   * The outcome: the final decision for every unit placed or moved (in the order they were
   * final), and the units that were already scheduled and had to move.
   */
  public record Plan(Map<String, Decision> decisions, List<String> moved) {
    public Plan {
      decisions = Collections.unmodifiableMap(new LinkedHashMap<>(decisions));
      moved = List.copyOf(moved);
    }

    public long placedCount() {
      return decisions.values().stream().filter(d -> d instanceof Decision.Place).count();
    }
  }

  private Planner() {}

  /** Places {@code units} (none global, none already scheduled), changing {@code state}. */
  public static Plan place(List<XFleetOptions> units, ClusterState state) {
    Deque<XFleetOptions> queue = new ArrayDeque<>();
    Map<String, XFleetOptions> waiting = new HashMap<>();
    for (XFleetOptions u : units) {
      if (u.global()) {
        throw new IllegalArgumentException(u.unit() + " is global: global units are not placed by the planner");
      }
      if (state.hostOf(u.unit()).isPresent()) {
        throw new IllegalArgumentException(u.unit() + " is already scheduled on " + state.hostOf(u.unit()).get());
      }
      if (waiting.put(u.unit(), u) != null) {
        throw new IllegalArgumentException(u.unit() + " appears twice in the batch");
      }
      queue.add(u);
    }
    LinkedHashMap<String, Decision> decisions = new LinkedHashMap<>();
    Set<String> moved = new LinkedHashSet<>();
    long budget = 4L * units.size() + 64; // displacement chains are finite, but bound them anyway
    List<XFleetOptions> deferred = new ArrayList<>();
    boolean lastRound = false; // no more deferring: what still waits is in a MachineOf cycle
    while (true) {
      boolean progress = false;
      while (!queue.isEmpty()) {
        XFleetOptions u = queue.poll();
        if (!lastRound && waitsForBatch(u, waiting)) {
          deferred.add(u); // its MachineOf unit is later in the batch
          continue;
        }
        Decision d;
        if (--budget < 0) {
          d = new Decision.Unschedulable(u.unit(), Reason.CONFLICTS,
              "displaced again and again by Replaces= in one round; left unscheduled");
        } else {
          d = Placement.decide(u, state);
        }
        if (d instanceof Decision.Place p) {
          state.assign(u, p.machineId());
          waiting.remove(u.unit());
          record(decisions, d);
          progress = true;
          for (String r : p.displaced()) {
            for (XFleetOptions again : unassignWithFollowers(r, state)) {
              moved.add(again.unit());
              waiting.put(again.unit(), again);
              queue.add(again);
            }
          }
        } else {
          waiting.remove(u.unit());
          record(decisions, d);
        }
      }
      if (deferred.isEmpty()) {
        break;
      }
      lastRound = !progress;
      queue.addAll(deferred);
      deferred.clear();
    }
    return new Plan(decisions, new ArrayList<>(moved));
  }

  private static boolean waitsForBatch(XFleetOptions u, Map<String, XFleetOptions> waiting) {
    for (String target : u.machineOf()) {
      if (!target.equals(u.unit()) && waiting.containsKey(target)) {
        return true;
      }
    }
    return false;
  }

  private static void record(LinkedHashMap<String, Decision> decisions, Decision d) {
    decisions.remove(d.unit());
    decisions.put(d.unit(), d);
  }

  /** Unschedules {@code unit} and, transitively, what follows it there; returns them in order. */
  private static List<XFleetOptions> unassignWithFollowers(String unit, ClusterState state) {
    List<XFleetOptions> out = new ArrayList<>();
    Deque<String> todo = new ArrayDeque<>();
    todo.add(unit);
    while (!todo.isEmpty()) {
      String name = todo.poll();
      List<String> followers = state.followersOf(name);
      state.unassign(name).ifPresent(out::add);
      for (String f : followers) {
        if (state.hostOf(f).isPresent()) {
          todo.add(f);
        }
      }
    }
    return out;
  }
}
