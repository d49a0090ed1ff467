package dev.flotilla.scheduler.registry.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.registry.DesiredState;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.MachineSchedule;
import dev.flotilla.scheduler.registry.RegistryEvent;
import dev.flotilla.scheduler.registry.RegistryWatch;
import dev.flotilla.scheduler.registry.UnitRecord;
import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitName;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The in-memory twin keeps the registry's contract: conditional writes, lease expiry, watches. */
class MemoryRegistryTest {

  private static final long S = 1_000_000_000L;
  private long now = 100 * S;
  private final MemoryRegistry r = new MemoryRegistry(() -> now);

  private static MachineRecord m(String id) {
    return new MachineRecord(id, "10.0.0.1", Map.of(), Resources.NONE, "t");
  }

  private static UnitRecord u(String name) {
    return new UnitRecord(UnitName.parse(name), UnitFile.parse("[Service]\nExecStart=/bin/true\n"), DesiredState.INACTIVE);
  }

  @Test
  void presenceEndsWhenTheLeaseRunsOutAndSaysWhichMachine() {
    for (String id : List.of("m0", "m1", "m2", "m3", "m4")) {
      r.publish(m(id), 10);
    }
    RegistryWatch w = r.watch();
    now += 5 * S;
    for (String id : List.of("m0", "m2", "m3", "m4")) {
      r.publish(m(id), 10); // all but m1 keep publishing
    }
    now += 5 * S;
    // m1 sits between others in the map: the event must name m1, not a neighbour
    assertThat(r.machines()).extracting(MachineRecord::id).containsExactly("m0", "m2", "m3", "m4");
    assertThat(w.poll(10)).containsExactly(new RegistryEvent.MachineGone("m1", r.revision()));
    r.publish(m("m0"), 10);
    assertThat(w.poll(10)).as("a refresh with the same record changes nothing").isEmpty();
  }

  @Test
  void globalUnitsAreListedAndWatchedApart() {
    UnitRecord g = new UnitRecord(UnitName.parse("g.service"),
        UnitFile.parse("[Service]\nExecStart=/bin/true\n\n[X-Fleet]\nGlobal=true\n"), DesiredState.INACTIVE);
    RegistryWatch w = r.watchGlobals(r.revision() + 1);
    r.create(u("a.service"));
    r.create(g);
    r.setDesiredState("g.service", DesiredState.LOADED, r.unit("g.service").orElseThrow().modRevision());
    assertThat(r.globals().units()).isEqualTo(Map.of("g.service", DesiredState.LOADED));
    r.destroy("g.service");
    assertThat(r.globals().units()).isEmpty();
    assertThat(w.poll(10)).extracting(e -> ((RegistryEvent.AssignmentChanged) e).unit())
        .containsExactly("g.service", "g.service", "g.service");
  }

  @Test
  void writesAreConditionalOnRevisions() {
    assertThat(r.create(u("a.service"))).isTrue();
    assertThat(r.create(u("a.service"))).isFalse();
    long rev = r.unit("a.service").orElseThrow().modRevision();
    assertThat(r.setDesiredState("a.service", DesiredState.LOADED, rev - 1)).isFalse();
    assertThat(r.setDesiredState("a.service", DesiredState.LOADED, rev)).isTrue();
    long rev2 = r.unit("a.service").orElseThrow().modRevision();
    assertThat(r.setDesiredState("a.service", DesiredState.INACTIVE, rev2)).isTrue();
    assertThat(r.assign("a.service", "m1", 5)).isFalse();
    assertThat(r.assign("a.service", "m1", 0)).isTrue();
    long at = r.assignment("a.service").orElseThrow().modRevision();
    assertThat(r.assign("a.service", "m2", 0)).isFalse();
    assertThat(r.assign("a.service", "m2", at)).isTrue();
    assertThat(r.assign("ghost.service", "m1", 0)).as("no assignment for a unit that does not exist").isFalse();
    assertThat(r.destroy("a.service")).isTrue();
    assertThat(r.assignments()).isEmpty();
    assertThat(r.destroy("a.service")).isFalse();
  }

  @Test
  void desiredStateMovesOneStepAtATime() {
    r.create(u("a.service"));
    long rev = r.unit("a.service").orElseThrow().modRevision();
    assertThatThrownBy(() -> r.setDesiredState("a.service", DesiredState.LAUNCHED, rev))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("inactive → launched");
  }

  @Test
  void anAgentWatchesOnlyItsOwnMachineFromAPastRevision() {
    r.create(u("a.service"));
    r.create(u("b.service"));
    MachineSchedule.Assigned before = r.assignedTo("m1");
    assertThat(before.units()).isEmpty();
    r.assign("a.service", "m1", 0);
    r.assign("b.service", "m2", 0);
    r.setDesiredState("a.service", DesiredState.LOADED, r.unit("a.service").orElseThrow().modRevision());
    RegistryWatch w = r.watchAssignedTo("m1", before.revision() + 1);
    assertThat(w.poll(10)).extracting(e -> ((RegistryEvent.AssignmentChanged) e).unit()).containsExactly("a.service", "a.service");
    assertThat(r.assignedTo("m1").units()).isEqualTo(Map.of("a.service", DesiredState.LOADED));
    r.assign("a.service", "m2", r.assignment("a.service").orElseThrow().modRevision()); // moves away
    assertThat(w.poll(10)).extracting(e -> ((RegistryEvent.AssignmentChanged) e).unit()).containsExactly("a.service");
    assertThat(r.assignedTo("m1").units()).isEmpty();
  }

  @Test
  void aWatchThatFallsBehindBreaks() {
    MemoryRegistry small = new MemoryRegistry(() -> now, 2);
    RegistryWatch w = small.watch();
    small.create(u("a.service"));
    small.create(u("b.service"));
    assertThat(w.isBroken()).isFalse();
    small.create(u("c.service"));
    assertThat(w.isBroken()).isTrue();
    assertThat(w.poll(10)).isEmpty();
    RegistryWatch fresh = small.watch();
    small.breakWatches();
    assertThat(fresh.isBroken()).isTrue();
  }
}
