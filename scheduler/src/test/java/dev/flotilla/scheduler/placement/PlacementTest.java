package dev.flotilla.scheduler.placement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.fleet.XFleetOptions;
import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitFiles;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PlacementTest {

  private static final long GIB = 1L << 30;

  private static Machine machine(String id, Map<String, String> metadata, long cpuMillis, long memory) {
    return new Machine(id, metadata, new Resources(cpuMillis, memory));
  }

  private static Machine machine(String id) {
    return machine(id, Map.of(), 4000, 8 * GIB);
  }

  private static XFleetOptions unit(String name) {
    return XFleetOptions.none(name);
  }

  private static XFleetOptions.Builder b(String name) {
    return XFleetOptions.builder(name);
  }

  private static Decision.Place placed(Decision d) {
    assertThat(d).isInstanceOf(Decision.Place.class);
    return (Decision.Place) d;
  }

  private static Decision.Unschedulable unschedulable(Decision d) {
    assertThat(d).isInstanceOf(Decision.Unschedulable.class);
    return (Decision.Unschedulable) d;
  }

  /** Decides and applies, as the engine would. */
  private static String place(XFleetOptions u, ClusterState s) {
    Decision.Place p = placed(Placement.decide(u, s));
    s.assign(u, p.machineId());
    return p.machineId();
  }

  @Test
  void leastLoadedByUnitCountThenMachineId() {
    ClusterState s = ClusterState.of(List.of(machine("m2"), machine("m1"), machine("m3")));
    assertThat(place(unit("a.service"), s)).isEqualTo("m1");
    assertThat(place(unit("b.service"), s)).isEqualTo("m2");
    assertThat(place(unit("c.service"), s)).isEqualTo("m3");
    assertThat(place(unit("d.service"), s)).isEqualTo("m1");
  }

  @Test
  void equalCountsGoToTheMachineWithTheSmallerReservedShare() {
    ClusterState s = ClusterState.of(List.of(machine("m1"), machine("m2")));
    s.assign(b("big.service").reservation(Resources.memory(4 * GIB)).build(), "m1");
    s.assign(b("small.service").reservation(Resources.memory(GIB)).build(), "m2");
    assertThat(place(unit("c.service"), s)).isEqualTo("m2");
    // the share is relative: 1 of 2 CPUs is fuller than 1 of 8
    ClusterState t = ClusterState.of(List.of(machine("a", Map.of(), 2000, GIB), machine("b", Map.of(), 8000, GIB)));
    t.assign(b("x.service").reservation(Resources.cpu(1000)).build(), "a");
    t.assign(b("y.service").reservation(Resources.cpu(1000)).build(), "b");
    assertThat(place(unit("z.service"), t)).isEqualTo("b");
  }

  @Test
  void noMachines() {
    Decision.Unschedulable u = unschedulable(Placement.decide(unit("a.service"), new ClusterState()));
    assertThat(u.reason()).isEqualTo(Reason.NO_MACHINES);
    assertThat(u.message()).isEqualTo("no machines in the cluster");
  }

  @Test
  void machineIdPinsTheUnit() {
    ClusterState s = ClusterState.of(List.of(machine("m1"), machine("m2"), machine("m3")));
    assertThat(place(b("a.service").machineId("m3").build(), s)).isEqualTo("m3");
    Decision.Unschedulable u = unschedulable(Placement.decide(b("b.service").machineId("zz").build(), s));
    assertThat(u.reason()).isEqualTo(Reason.MACHINE_ID);
    assertThat(u.message()).isEqualTo("MachineID=zz: no such machine among the 3 machines");
  }

  @Test
  void machineOfFollowsItsUnitAndWaitsForIt() {
    ClusterState s = ClusterState.of(List.of(machine("m1"), machine("m2")));
    XFleetOptions announce = XFleetOptions.parse("web-announce@1.service", UnitFiles.load("web-announce@.service"));
    Decision.Unschedulable u = unschedulable(Placement.decide(announce, s));
    assertThat(u.reason()).isEqualTo(Reason.MACHINE_OF);
    assertThat(u.message()).isEqualTo("MachineOf=web@1.service: web@1.service is not scheduled");

    s.assign(unit("other.service"), "m1");
    s.assign(unit("web@1.service"), "m1"); // on the busier machine: MachineOf wins over load
    assertThat(place(announce, s)).isEqualTo("m1");
  }

  @Test
  void machineOfSeveralUnitsNeedsThemTogether() {
    ClusterState s = ClusterState.of(List.of(machine("m1"), machine("m2")));
    s.assign(unit("a.service"), "m1");
    s.assign(unit("b.service"), "m2");
    Decision.Unschedulable u = unschedulable(Placement.decide(b("c.service").machineOf("a.service", "b.service").build(), s));
    assertThat(u.reason()).isEqualTo(Reason.MACHINE_OF);
    assertThat(u.message()).isEqualTo("the MachineOf units are not on one machine: a.service on m1, b.service on m2");
  }

  @Test
  void machineOfAGlobalUnitMeansAnyMachineItRunsOn() {
    ClusterState s = ClusterState.of(List.of(machine("m1", Map.of("role", "db"), 4000, GIB), machine("m2"),
        machine("m3", Map.of("role", "db"), 4000, GIB)));
    XFleetOptions exporter = b("exporter.service").global(true).metadata("role", "db").build();
    s.putGlobal(exporter);
    s.assign(unit("x.service"), "m1");
    assertThat(place(b("sidecar.service").machineOf("exporter.service").build(), s)).isEqualTo("m3");
    s.putGlobal(b("nowhere.service").global(true).metadata("role", "none").build());
    assertThat(unschedulable(Placement.decide(b("s2.service").machineOf("nowhere.service").build(), s)).message())
        .isEqualTo("MachineOf=nowhere.service: nowhere.service is a global unit that runs on no machine");
  }

  @Test
  void metadataMessages() {
    ClusterState s = ClusterState.of(List.of(
        machine("m1", Map.of("region", "us-west", "disk", "ssd"), 1000, GIB),
        machine("m2", Map.of("region", "us-east", "disk", "hdd"), 1000, GIB)));
    assertThat(unschedulable(Placement.decide(b("a.service").metadata("region", "eu").build(), s)).message())
        .isEqualTo("no machine has metadata region=eu");
    Decision.Unschedulable both = unschedulable(Placement.decide(
        b("b.service").metadata("region", "us-east").metadata("disk", "ssd").build(), s));
    assertThat(both.reason()).isEqualTo(Reason.METADATA);
    assertThat(both.message()).isEqualTo("no machine has metadata disk=ssd and region=us-east together");
    assertThat(unschedulable(Placement.decide(
        b("c.service").metadata("region", "eu").metadata("region", "ap").metadata("disk", "ssd").build(), s)).message())
        .isEqualTo("no machine has metadata (region=ap or region=eu)");
    assertThat(place(b("d.service").metadata("region", "eu").metadata("region", "us-east").build(), s)).isEqualTo("m2");
  }

  @Test
  void theIssuesExampleMessages() {
    ClusterState s = ClusterState.of(List.of(
        machine("m1", Map.of("region", "us-west"), 2000, 4 * GIB),
        machine("m2", Map.of("region", "us-west"), 2000, 4 * GIB)));
    assertThat(unschedulable(Placement.decide(b("a.service").metadata("region", "us-east").build(), s)).message())
        .isEqualTo("no machine has metadata region=us-east");

    ClusterState onlyM1 = ClusterState.of(List.of(machine("m1", Map.of("region", "us-west"), 2000, 4 * GIB)));
    onlyM1.assign(b("web@1.service").conflicts("web@*.service").build(), "m1");
    assertThat(unschedulable(Placement.decide(unit("web@2.service"), onlyM1)).message())
        .isEqualTo("conflicts with web@1.service on every eligible machine");

    ClusterState full = ClusterState.of(List.of(machine("m1", Map.of(), 2000, 4 * GIB),
        machine("m2", Map.of(), 2000, 4 * GIB)));
    full.assign(b("x.service").reservation(Resources.memory(3 * GIB)).build(), "m1");
    full.assign(b("y.service").reservation(Resources.memory(3 * GIB)).build(), "m2");
    Decision.Unschedulable mem = unschedulable(Placement.decide(
        b("big.service").reservation(Resources.memory(2 * GIB)).build(), full));
    assertThat(mem.reason()).isEqualTo(Reason.RESOURCES);
    assertThat(mem.message()).isEqualTo("needs 2 GiB memory, most free is 1 GiB");
  }

  @Test
  void conflictsAreSymmetric() {
    ClusterState s = ClusterState.of(List.of(machine("m1"), machine("m2")));
    s.assign(b("loner.service").conflicts("*").build(), "m1");
    // the newcomer has no Conflicts of its own, the loner's still keeps it away
    assertThat(place(unit("a.service"), s)).isEqualTo("m2");
    assertThat(place(unit("b.service"), s)).isEqualTo("m2");
    Decision.Unschedulable u = unschedulable(Placement.decide(b("c.service").machineId("m1").build(), s));
    assertThat(u.reason()).isEqualTo(Reason.CONFLICTS);
    assertThat(u.message()).isEqualTo("conflicts with loner.service on machine m1 (MachineID)");
  }

  @Test
  void templateInstancesSpreadOnePerMachine() {
    UnitFile web = UnitFiles.load("web@.service");
    ClusterState s = ClusterState.of(List.of(
        machine("m1", Map.of("role", "frontend"), 4000, 8 * GIB),
        machine("m2", Map.of("role", "frontend"), 4000, 8 * GIB),
        machine("m3", Map.of("role", "backend"), 4000, 8 * GIB)));
    assertThat(place(XFleetOptions.parse("web@1.service", web), s)).isEqualTo("m1");
    assertThat(place(XFleetOptions.parse("web@2.service", web), s)).isEqualTo("m2");
    Decision.Unschedulable third = unschedulable(Placement.decide(XFleetOptions.parse("web@3.service", web), s));
    assertThat(third.reason()).isEqualTo(Reason.CONFLICTS);
    assertThat(third.message())
        .isEqualTo("conflicts on every eligible machine: web@1.service on m1, web@2.service on m2");
  }

  @Test
  void resourceMessagesForCpuAndForBothAndForFragmentation() {
    ClusterState s = ClusterState.of(List.of(machine("m1", Map.of(), 1000, 8 * GIB), machine("m2", Map.of(), 4000, GIB)));
    assertThat(unschedulable(Placement.decide(b("a.service").reservation(Resources.cpu(2000)).build(),
        ClusterState.of(List.of(machine("m1", Map.of(), 500, GIB))))).message())
        .isEqualTo("needs 2 CPU, most free is 0.5 CPU");
    assertThat(unschedulable(Placement.decide(b("b.service").reservation(new Resources(8000, 16 * GIB)).build(), s))
        .message()).isEqualTo("needs 16 GiB memory and 8 CPU, most free is 8 GiB memory and 4 CPU");
    assertThat(unschedulable(Placement.decide(b("c.service").reservation(new Resources(2000, 2 * GIB)).build(), s))
        .message()).isEqualTo("needs 2 GiB memory and 2 CPU on one machine; machines with 2 GiB free have at most "
            + "1 CPU free");
    assertThat(unschedulable(Placement.decide(b("d.service").machineId("m1").reservation(Resources.cpu(1500)).build(), s))
        .message()).isEqualTo("needs 1.5 CPU, machine m1 (MachineID) has 1 CPU free");
  }

  @Test
  void reservationsAddUpOnAMachine() {
    ClusterState s = ClusterState.of(List.of(machine("m1", Map.of(), 1000, GIB)));
    XFleetOptions half = b("a.service").reservation(new Resources(500, GIB / 2)).build();
    assertThat(place(half, s)).isEqualTo("m1");
    assertThat(place(b("b.service").reservation(new Resources(500, GIB / 2)).build(), s)).isEqualTo("m1");
    assertThat(s.reserved("m1")).isEqualTo(new Resources(1000, GIB));
    assertThat(Placement.decide(b("c.service").reservation(Resources.cpu(1)).build(), s))
        .isInstanceOf(Decision.Unschedulable.class);
    assertThat(place(unit("d.service"), s)).as("units without a reservation still fit").isEqualTo("m1");
    s.unassign("a.service");
    assertThat(s.reserved("m1")).isEqualTo(new Resources(500, GIB / 2));
  }

  @Test
  void replacesMovesTheReplacedUnitOnlyWhenItMust() {
    ClusterState s = ClusterState.of(List.of(machine("m1"), machine("m2")));
    s.assign(unit("shadow.service"), "m1");
    XFleetOptions master = b("master.service").replaces("shadow.service").build();
    // m2 is as loaded as m1 would be without shadow: nothing has to move
    assertThat(placed(Placement.decide(master, s))).isEqualTo(new Decision.Place("master.service", "m2", List.of()));

    XFleetOptions pinned = b("master.service").replaces("shadow.service").machineId("m1").build();
    assertThat(placed(Placement.decide(pinned, s)))
        .isEqualTo(new Decision.Place("master.service", "m1", List.of("shadow.service")));
  }

  @Test
  void aReplacedUnitCannotGoWhereItsReplacerIs() {
    ClusterState s = ClusterState.of(List.of(machine("m1")));
    s.assign(b("master.service").replaces("shadow*").build(), "m1");
    Decision.Unschedulable u = unschedulable(Placement.decide(unit("shadow.service"), s));
    assertThat(u.reason()).isEqualTo(Reason.CONFLICTS);
    assertThat(u.message()).isEqualTo("replaced by master.service on every eligible machine");
  }

  @Test
  void unitsReplacingEachOtherAreIgnoredAsFleetDoes() {
    ClusterState s = ClusterState.of(List.of(machine("m1")));
    s.assign(b("a.service").replaces("b.service").build(), "m1");
    assertThat(placed(Placement.decide(b("b.service").replaces("a.service").build(), s)).displaced()).isEmpty();
  }

  @Test
  void displacedResourcesCountAsFree() {
    ClusterState s = ClusterState.of(List.of(machine("m1", Map.of(), 1000, GIB)));
    s.assign(b("old.service").reservation(Resources.cpu(1000)).build(), "m1");
    Decision.Place p = placed(Placement.decide(
        b("new.service").replaces("old.service").reservation(Resources.cpu(1000)).build(), s));
    assertThat(p.displaced()).containsExactly("old.service");
  }

  @Test
  void globalUnitsRunOnEveryMatchingMachine() {
    ClusterState s = ClusterState.of(List.of(
        machine("m1", Map.of("role", "frontend"), 1, 1),
        machine("m2", Map.of("role", "backend"), 1, 1),
        machine("m3", Map.of("role", "batch"), 1, 1)));
    XFleetOptions exporter = XFleetOptions.parse("node-exporter.service", UnitFiles.load("node-exporter.service"));
    assertThat(Placement.global(exporter, s).machines()).containsExactly("m1", "m2");
    assertThat(Placement.global(b("all.service").global(true).build(), s).machines()).containsExactly("m1", "m2", "m3");
    Placement.GlobalPlacement none = Placement.global(b("x.service").global(true).metadata("gpu", "yes").build(), s);
    assertThat(none.machines()).isEmpty();
    assertThat(none.whyNone()).contains("no machine has metadata gpu=yes");
    assertThatThrownBy(() -> Placement.decide(exporter, s)).hasMessageContaining("is global");
  }

  @Test
  void checkSaysWhetherAScheduledUnitMayStay() {
    ClusterState s = ClusterState.of(List.of(machine("m1", Map.of("role", "db"), 1000, GIB)));
    XFleetOptions db = b("db.service").metadata("role", "db").reservation(Resources.cpu(1000)).build();
    s.assign(db, "m1");
    assertThat(Placement.check(db, "m1", s)).as("its own reservation does not count against it").isEmpty();

    s.putMachine(machine("m1", Map.of("role", "web"), 1000, GIB));
    assertThat(Placement.check(db, "m1", s)).contains(
        new Placement.Rejection(Reason.METADATA, "machine m1 does not have metadata role=db"));

    s.putMachine(machine("m1", Map.of("role", "db"), 500, GIB));
    assertThat(Placement.check(db, "m1", s)).contains(
        new Placement.Rejection(Reason.RESOURCES, "needs 1 CPU, machine m1 has 0.5 CPU free"));

    s.putMachine(machine("m1", Map.of("role", "db"), 1000, GIB));
    XFleetOptions master = b("master.service").replaces("db.service").build();
    s.assign(master, "m1");
    assertThat(Placement.check(db, "m1", s)).contains(
        new Placement.Rejection(Reason.CONFLICTS, "replaced by master.service on machine m1"));
    assertThat(Placement.check(master, "m1", s)).isEmpty();

    assertThat(Placement.check(db, "gone", s)).contains(new Placement.Rejection(Reason.NO_MACHINES, "machine gone is gone"));
  }

  @Test
  void neverDisplacesWhatItsMachineOfUnitFollows() {
    // found by PlacementPropertyTest (Scenario seed 7674071725521204847, 12 machines, 22 units):
    // web@15 follows u2; u11 follows web@15 and replaces u2*. Displacing u2 would take web@15
    // along, and u11 would sit on m1 without the unit it must follow.
    ClusterState s = ClusterState.of(List.of(machine("m1"), machine("m2")));
    s.assign(unit("u2.socket"), "m1");
    s.assign(b("web@15.service").machineOf("u2.socket").build(), "m1");
    Decision d = Placement.decide(b("u11.socket").machineOf("web@15.service").replaces("u2*").build(), s);
    assertThat(unschedulable(d).reason()).isEqualTo(Reason.CONFLICTS);
    assertThat(unschedulable(d).message()).contains("u2.socket");
  }

  @Test
  void removingAMachineUnschedulesItsUnits() {
    ClusterState s = ClusterState.of(List.of(machine("m1"), machine("m2")));
    s.assign(unit("a.service"), "m1");
    s.assign(unit("b.service"), "m1");
    s.assign(unit("c.service"), "m2");
    assertThat(s.removeMachine("m1")).extracting(XFleetOptions::unit).containsExactly("a.service", "b.service");
    assertThat(s.schedule()).containsExactly(Map.entry("c.service", "m2"));
    assertThat(s.hostOf("a.service")).isEmpty();
  }

  @Test
  void aSelectiveMetadataRequirementUsesTheIndexAndStillPicksTheLeastLoaded() {
    ClusterState s = new ClusterState();
    for (int i = 0; i < 100; i++) {
      s.putMachine(machine(String.format("m%03d", i), i % 50 == 7 ? Map.of("gpu", "yes") : Map.of(), 1000, GIB));
    }
    s.assign(unit("x.service"), "m007");
    assertThat(place(b("a.service").metadata("gpu", "yes").build(), s)).isEqualTo("m057");
    assertThat(place(b("b.service").metadata("gpu", "yes").build(), s)).isEqualTo("m007");
  }
}
