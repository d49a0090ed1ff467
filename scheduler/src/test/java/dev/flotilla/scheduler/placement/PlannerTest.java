package dev.flotilla.scheduler.placement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.fleet.XFleetOptions;
import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitFiles;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PlannerTest {

  private static Machine machine(String id) {
    return new Machine(id, Map.of(), new Resources(4000, 8L << 30));
  }

  @Test
  void theSubgunDeploymentFromFleetsDocs() {
    UnitFile http = UnitFiles.load("web@.service");
    UnitFile presence = UnitFiles.load("web-announce@.service");
    List<XFleetOptions> batch = new ArrayList<>();
    // presence units first: they wait for the units they follow
    for (int i = 1; i <= 3; i++) {
      batch.add(XFleetOptions.parse("web-announce@" + i + ".service", presence));
    }
    for (int i = 1; i <= 3; i++) {
      batch.add(XFleetOptions.parse("web@" + i + ".service", http));
    }
    ClusterState s = new ClusterState();
    for (String id : List.of("a", "b", "c")) {
      s.putMachine(new Machine(id, Map.of("role", "frontend"), new Resources(4000, 8L << 30)));
    }
    Planner.Plan plan = Planner.place(batch, s);
    assertThat(plan.placedCount()).isEqualTo(6);
    for (int i = 1; i <= 3; i++) {
      assertThat(s.hostOf("web-announce@" + i + ".service")).isEqualTo(s.hostOf("web@" + i + ".service"));
    }
    assertThat(s.schedule().values().stream().distinct().count()).isEqualTo(3);
  }

  @Test
  void aMachineOfCycleStaysUnscheduled() {
    ClusterState s = ClusterState.of(List.of(machine("m1")));
    Planner.Plan plan = Planner.place(List.of(
        XFleetOptions.builder("a.service").machineOf("b.service").build(),
        XFleetOptions.builder("b.service").machineOf("a.service").build()), s);
    assertThat(plan.placedCount()).isZero();
    assertThat(plan.decisions().get("a.service")).isEqualTo(
        new Decision.Unschedulable("a.service", Reason.MACHINE_OF, "MachineOf=b.service: b.service is not scheduled"));
  }

  @Test
  void aReplacedUnitMovesWithItsFollowers() {
    ClusterState s = ClusterState.of(List.of(machine("m1"), machine("m2")));
    s.assign(XFleetOptions.none("shadow.service"), "m1");
    s.assign(XFleetOptions.builder("shadow-log.service").machineOf("shadow.service").build(), "m1");
    s.assign(XFleetOptions.none("busy.service"), "m2");
    Planner.Plan plan = Planner.place(List.of(
        XFleetOptions.builder("master.service").replaces("shadow.service").machineId("m1").build()), s);
    assertThat(plan.moved()).containsExactly("shadow.service", "shadow-log.service");
    assertThat(s.schedule()).containsExactlyEntriesOf(new java.util.TreeMap<>(Map.of(
        "master.service", "m1", "shadow.service", "m2", "shadow-log.service", "m2", "busy.service", "m2")));
    assertThat(plan.decisions().keySet()).containsExactly("master.service", "shadow.service", "shadow-log.service");
  }

  @Test
  void aReplacedUnitWithNowhereToGoStaysUnscheduled() {
    ClusterState s = ClusterState.of(List.of(machine("m1")));
    s.assign(XFleetOptions.none("shadow.service"), "m1");
    Planner.Plan plan = Planner.place(List.of(XFleetOptions.builder("master.service").replaces("shadow.service").build()), s);
    assertThat(s.hostOf("master.service")).contains("m1");
    assertThat(plan.decisions().get("shadow.service")).isEqualTo(new Decision.Unschedulable("shadow.service",
        Reason.CONFLICTS, "replaced by master.service on every eligible machine"));
  }

  @Test
  void refusesGlobalAlreadyScheduledAndDuplicateUnits() {
    ClusterState s = ClusterState.of(List.of(machine("m1")));
    s.assign(XFleetOptions.none("a.service"), "m1");
    assertThatThrownBy(() -> Planner.place(List.of(XFleetOptions.none("a.service")), s))
        .hasMessageContaining("already scheduled on m1");
    assertThatThrownBy(() -> Planner.place(List.of(XFleetOptions.builder("g.service").global(true).build()), s))
        .hasMessageContaining("is global");
    assertThatThrownBy(() -> Planner.place(List.of(XFleetOptions.none("b.service"), XFleetOptions.none("b.service")), s))
        .hasMessageContaining("twice");
  }
}
