package dev.flotilla.scheduler.placement;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.scheduler.fleet.XFleetOptions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

class PlacementPropertyTest {

  @Property(tries = 400)
  void aPlanNeverViolatesAConstraint(@ForAll long seed, @ForAll @IntRange(min = 0, max = 12) int machines,
      @ForAll @IntRange(min = 0, max = 40) int units) {
    Scenario sc = Scenario.generate(seed, machines, units);
    ClusterState s = sc.cluster();
    Planner.Plan plan = Planner.place(sc.units(), s);
    assertThat(Constraints.violations(s)).as("seed %d", seed).isEmpty();
    for (XFleetOptions u : sc.units()) {
      Decision d = plan.decisions().get(u.unit());
      assertThat(d).as("every unit has a decision").isNotNull();
      if (d instanceof Decision.Place p) {
        assertThat(s.hostOf(u.unit())).contains(p.machineId());
      } else {
        assertThat(s.hostOf(u.unit())).isEmpty();
        assertThat(((Decision.Unschedulable) d).message()).isNotBlank();
      }
    }
  }

  @Property(tries = 300)
  void eachDecisionIsTheBestFeasibleMachineOrThereIsNone(@ForAll long seed,
      @ForAll @IntRange(min = 0, max = 12) int machines, @ForAll @IntRange(min = 0, max = 40) int units) {
    checkDecisionsOneByOne(Scenario.generate(seed, machines, units));
  }

  @Property(tries = 100)
  void theMetadataIndexPathAgreesWithTheNaiveRules(@ForAll long seed,
      @ForAll @IntRange(min = 40, max = 120) int machines, @ForAll @IntRange(min = 0, max = 60) int units) {
    checkDecisionsOneByOne(Scenario.generate(seed, machines, units, 0.05));
  }

  /** Decides unit by unit, comparing each decision with a brute force over all machines. */
  private static void checkDecisionsOneByOne(Scenario sc) {
    ClusterState s = sc.cluster();
    List<String> displaced = new ArrayList<>();
    for (XFleetOptions u : sc.units()) {
      Decision d = Placement.decide(u, s);
      record Candidate(String id, boolean displaces, int count, long share) {}
      List<Candidate> feasible = new ArrayList<>();
      for (Machine m : s.machines()) {
        if (Constraints.feasible(u, m.id(), s, displaced)) {
          ClusterState.Slot slot = s.slot(m.id());
          feasible.add(new Candidate(m.id(), !displaced.isEmpty(), slot.units.size(), slot.sharePpm));
        }
      }
      if (feasible.isEmpty()) {
        assertThat(d).as(u.unit()).isInstanceOf(Decision.Unschedulable.class);
        continue;
      }
      Candidate best = feasible.stream().min(Comparator.comparing(Candidate::displaces)
          .thenComparingInt(Candidate::count).thenComparingLong(Candidate::share).thenComparing(Candidate::id))
          .orElseThrow();
      assertThat(d).as(u.unit()).isInstanceOf(Decision.Place.class);
      Decision.Place p = (Decision.Place) d;
      assertThat(p.machineId()).as(u.unit()).isEqualTo(best.id());
      Constraints.feasible(u, p.machineId(), s, displaced);
      assertThat(p.displaced()).containsExactlyInAnyOrderElementsOf(displaced);
      p.displaced().forEach(r -> unassignWithFollowers(r, s));
      s.assign(u, p.machineId());
    }
    assertThat(Constraints.violations(s)).isEmpty();
  }

  /** A displaced unit leaves, and so does whatever follows it (the planner re-places them). */
  private static void unassignWithFollowers(String unit, ClusterState s) {
    List<String> followers = s.followersOf(unit);
    s.unassign(unit);
    followers.forEach(f -> unassignWithFollowers(f, s));
  }

  @Property(tries = 200)
  void placementIsDeterministic(@ForAll long seed, @ForAll @IntRange(min = 0, max = 12) int machines,
      @ForAll @IntRange(min = 0, max = 40) int units, @ForAll long shuffleSeed) {
    Scenario sc = Scenario.generate(seed, machines, units);
    ClusterState a = sc.cluster();
    ClusterState b = sc.clusterShuffled(shuffleSeed);
    ClusterState c = sc.cluster().copy();
    Planner.Plan pa = Planner.place(sc.units(), a);
    Planner.Plan pb = Planner.place(sc.units(), b);
    Planner.Plan pc = Planner.place(sc.units(), c);
    assertThat(pb).isEqualTo(pa);
    assertThat(pc).isEqualTo(pa);
    assertThat(b.schedule()).isEqualTo(a.schedule());
  }

  @Property(tries = 200)
  void anExistingAssignmentPassesCheckExactlyWhenTheNaiveRulesAgree(@ForAll long seed,
      @ForAll @IntRange(min = 1, max = 8) int machines, @ForAll @IntRange(min = 0, max = 30) int units) {
    // assign at random, ignoring constraints, then ask check() about every assignment
    Scenario sc = Scenario.generate(seed, machines, units);
    ClusterState s = sc.cluster();
    java.util.Random r = new java.util.Random(seed);
    for (XFleetOptions u : sc.units()) {
      s.assign(u, sc.machines().get(r.nextInt(machines)).id());
    }
    List<String> displaced = new ArrayList<>();
    for (XFleetOptions u : sc.units()) {
      String host = s.hostOf(u.unit()).orElseThrow();
      s.unassign(u.unit());
      boolean ok = Constraints.feasible(u, host, s, displaced);
      s.assign(u, host);
      assertThat(Placement.check(u, host, s).isEmpty()).as("%s on %s", u.unit(), host).isEqualTo(ok);
    }
  }
}
