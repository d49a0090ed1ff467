package dev.flotilla.scheduler.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitFiles;
import dev.flotilla.scheduler.unit.UnitName;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class XFleetOptionsTest {

  private static XFleetOptions parse(String unit, String xfleet) {
    return XFleetOptions.parse(unit, UnitFile.parse("[Service]\nExecStart=/bin/true\n[X-Fleet]\n" + xfleet));
  }

  private static List<String> problems(String unit, String xfleet) {
    try {
      parse(unit, xfleet);
    } catch (InvalidUnitException e) {
      assertThat(e.unit()).isEqualTo(unit);
      return e.problems();
    }
    throw new AssertionError("expected " + unit + " to be refused");
  }

  @Test
  void noXFleetSectionMeansAnywhere() {
    XFleetOptions o = XFleetOptions.parse("hello.service", UnitFiles.load("hello.service"));
    assertThat(o).isEqualTo(XFleetOptions.none("hello.service"));
    assertThat(o.global()).isFalse();
    assertThat(o.hasReservation()).isFalse();
  }

  @Test
  void aFileWithoutXFleetOptionsGivesEachInstanceItsOwnName() {
    UnitFile blank = UnitFile.parse("[Unit]\nDescription=sleeper %i\n[Service]\nExecStart=/bin/sleep infinity\n");
    for (String unit : List.of("sleep@1.service", "sleep@2.service", "sleep@.service", "sleep@1.service")) {
      assertThat(XFleetOptions.parse(unit, blank)).isEqualTo(XFleetOptions.none(unit));
    }
    // an emptied option, a deprecated spelling and an unknown option are read per name as before
    UnitFile emptied = UnitFile.parse("[Service]\nExecStart=/bin/true\n[X-Fleet]\nConflicts=\n");
    assertThat(XFleetOptions.parse("a@1.service", emptied)).isEqualTo(XFleetOptions.none("a@1.service"));
    assertThat(parse("a@1.service", "X-Conflicts=b.service").warnings()).hasSize(1);
    assertThat(problems("a@1.service", "Colour=blue")).hasSize(1);
  }

  @Test
  void templateInstancesExpandSpecifiers() {
    UnitFile template = UnitFiles.load("web-announce@.service");
    XFleetOptions o = XFleetOptions.parse("web-announce@3.service", template);
    assertThat(o.machineOf()).containsExactly("web@3.service");

    XFleetOptions web = XFleetOptions.parse("web@3.service", UnitFiles.load("web@.service"));
    assertThat(web.conflicts()).extracting(Glob::pattern).containsExactly("web@*.service");
    assertThat(web.conflictsWith("web@4.service")).isTrue();
    assertThat(web.conflictsWith("web@3.service")).as("never with itself").isFalse();
    assertThat(web.metadata().allowed()).isEqualTo(Map.of("role", java.util.Set.of("frontend")));
    assertThat(web.reservation()).isEqualTo(new Resources(500, 256L << 20));
  }

  @Test
  void aTemplateIsCheckedWithoutItsInstance() {
    XFleetOptions t = XFleetOptions.parse("web-announce@.service", UnitFiles.load("web-announce@.service"));
    assertThat(t.machineOf()).containsExactly("web@.service");
  }

  @Test
  void fleetsDynamicRequirementsExample() {
    assertThat(parse("foo.service", "MachineOf=%p.socket").machineOf()).containsExactly("foo.socket");
    assertThat(parse("bar.service", "MachineOf=%p.socket").machineOf()).containsExactly("bar.socket");
    assertThat(parse("a@b.service", "Conflicts=%N-* %n.x").conflicts()).extracting(Glob::pattern)
        .containsExactly("a@b-*", "a@b.service.x");
  }

  @Test
  void metadataKeysAreAndedAndValuesOfOneKeyOred() {
    XFleetOptions o = XFleetOptions.parse("backup.service", UnitFiles.load("backup.service"));
    MetadataRequirement md = o.metadata();
    assertThat(md.describe()).isEqualTo("disk=ssd and (region=us-east-1 or region=us-west-2)");
    assertThat(md.matches(Map.of("disk", "ssd", "region", "us-west-2"))).isTrue();
    assertThat(md.matches(Map.of("disk", "ssd", "region", "us-east-1", "other", "x"))).isTrue();
    assertThat(md.matches(Map.of("disk", "hdd", "region", "us-west-2"))).isFalse();
    assertThat(md.matches(Map.of("region", "us-west-2"))).isFalse();
  }

  @Test
  void groupingMetadataOntoLinesDoesNotMatter() {
    XFleetOptions a = parse("a.service", "MachineMetadata=\"region=us-east-1\" \"job=foo\"\n"
        + "MachineMetadata=\"region=us-west-1\" \"job=bar\"\n");
    XFleetOptions b = parse("a.service", "MachineMetadata=job=bar region=us-east-1 job=foo\n"
        + "MachineMetadata=region=us-west-1\n");
    assertThat(a.metadata()).isEqualTo(b.metadata());
    assertThat(a.metadata().describe()).isEqualTo("(job=bar or job=foo) and (region=us-east-1 or region=us-west-1)");
  }

  @Test
  void metadataValuesMayContainEqualsSigns() {
    assertThat(parse("a.service", "MachineMetadata=k=a=b").metadata().allowed().get("k")).containsExactly("a=b");
  }

  @Test
  void repeatedConflictsAccumulateAndAnEmptyAssignmentResets() {
    XFleetOptions o = parse("a.service", "Conflicts=x*\nConflicts=y* z*\n");
    assertThat(o.conflicts()).extracting(Glob::pattern).containsExactly("x*", "y*", "z*");
    XFleetOptions reset = parse("a.service", "Conflicts=x*\nX-Conflicts=y*\nConflicts=\nConflicts=z*\n");
    assertThat(reset.conflicts()).extracting(Glob::pattern).containsExactly("z*");
    assertThat(parse("a.service", "MachineMetadata=a=b\nMachineMetadata=\n").metadata().isEmpty()).isTrue();
  }

  @Test
  void singleValuedOptionsTakeTheLastAssignment() {
    assertThat(parse("a.service", "MachineID=m1\nMachineID=m2\n").machineId()).contains("m2");
    assertThat(parse("a.service", "MachineID=m1\nMachineID=\n").machineId()).isEmpty();
    assertThat(parse("a.service", "Global=true\nGlobal=false\n").global()).isFalse();
    assertThat(parse("a.service", "MemoryReservation=1G\nMemoryReservation=2G\n").reservation().memoryBytes())
        .isEqualTo(2L << 30);
  }

  @Test
  void deprecatedSpellingsAreAcceptedWithAWarning() {
    XFleetOptions o = parse("a.service", """
        X-ConditionMachineOf=b.service
        X-ConditionMachineMetadata=region=x
        """);
    assertThat(o.machineOf()).containsExactly("b.service");
    assertThat(o.metadata().describe()).isEqualTo("region=x");
    assertThat(o.warnings()).containsExactly(
        "X-ConditionMachineOf= is a deprecated spelling (fleet 0.8); write MachineOf=",
        "X-ConditionMachineMetadata= is a deprecated spelling (fleet 0.8); write MachineMetadata=");
    assertThat(parse("a.service", "X-ConditionMachineID=m1").machineId()).contains("m1");
    assertThat(parse("a.service", "X-ConditionMachineBootID=b1").machineId()).contains("b1");
    assertThat(parse("a.service", "X-Conflicts=b*").conflictsWith("b.service")).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"true", "yes", "1", "on", "t", "y", "TRUE", "Yes"})
  void globalAcceptsSystemdsTrueSpellings(String value) {
    assertThat(parse("a.service", "Global=" + value).global()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"false", "no", "0", "off", "f", "n"})
  void globalAcceptsSystemdsFalseSpellings(String value) {
    assertThat(parse("a.service", "Global=" + value).global()).isFalse();
  }

  @Test
  void globalUnitsMayOnlyHaveMetadata() {
    XFleetOptions g = XFleetOptions.parse("node-exporter.service", UnitFiles.load("node-exporter.service"));
    assertThat(g.global()).isTrue();
    assertThat(g.metadata().describe()).isEqualTo("role=backend or role=frontend");

    assertThat(problems("a.service", "Global=true\nMachineOf=b.service\n"))
        .containsExactly("Global=true cannot be combined with MachineOf (a global unit may only have MachineMetadata)");
    assertThat(problems("a.service", "Global=yes\nMachineID=m1\nConflicts=x*\nReplaces=y*\n"
        + "MemoryReservation=1G\nCPUReservation=1\n"))
        .containsExactly(
            "Global=yes cannot be combined with MachineID (a global unit may only have MachineMetadata)",
            "Global=yes cannot be combined with Conflicts (a global unit may only have MachineMetadata)",
            "Global=yes cannot be combined with Replaces (a global unit may only have MachineMetadata)",
            "Global=yes cannot be combined with MemoryReservation (a global unit may only have MachineMetadata)",
            "Global=yes cannot be combined with CPUReservation (a global unit may only have MachineMetadata)",
            "MachineID cannot be combined with Conflicts (fleet refuses this pair too)",
            "Conflicts cannot be combined with Replaces (fleet refuses this pair too)");
    assertThat(problems("a.service", "Global=true\nX-ConditionMachineOf=b.service\n"))
        .first().asString().contains("cannot be combined with X-ConditionMachineOf");
  }

  @Test
  void fleetsOtherRefusedPairs() {
    assertThat(problems("a.service", "MachineID=m1\nMachineOf=b.service\n"))
        .containsExactly("MachineID cannot be combined with MachineOf (a unit placed next to another goes wherever "
            + "that one is)");
    assertThat(problems("a.service", "MachineOf=db.service\nConflicts=db*\n"))
        .containsExactly("MachineOf=db.service matches Conflicts=db*: the unit would have to run both next to it "
            + "and away from it");
    assertThat(problems("a.service", "MachineOf=db.service\nReplaces=db.service\n"))
        .containsExactly("MachineOf=db.service matches Replaces=db.service: the unit would push away the unit it "
            + "must run next to");
  }

  @Test
  void everythingFleetIgnoredSilentlyIsAnError() {
    assertThat(problems("a.service", "Weight=10\n"))
        .containsExactly("unknown option Weight= in [X-Fleet]; the options are MachineID, MachineOf, MachineMetadata, "
            + "Conflicts, Global, Replaces, MemoryReservation, CPUReservation");
    assertThat(problems("a.service", "MachineMetadata=region\n"))
        .containsExactly("MachineMetadata=region: 'region' is not key=value with a non-empty key and value");
    assertThat(problems("a.service", "MachineMetadata=\"a=\" =b\n")).hasSize(2);
    assertThat(problems("a.service", "Global=maybe\n")).containsExactly("Global=maybe: not a boolean; use true or false");
    assertThat(problems("a.service", "Conflicts=web[\n"))
        .containsExactly("Conflicts=web[: malformed pattern: 'web[': unclosed '[' at column 4");
    assertThat(problems("a.service", "MachineMetadata=\"region=x\n"))
        .containsExactly("MachineMetadata=\"region=x: unterminated double quote starting at column 1 of '\"region=x'");
  }

  @Test
  void optionsNameThemselvesInErrors() {
    assertThat(problems("a.service", "MemoryReservation=2X\n")).singleElement().asString()
        .startsWith("MemoryReservation=2X: '2X' is not a size");
    assertThat(problems("a.service", "CPUReservation=two\n")).singleElement().asString()
        .startsWith("CPUReservation=two: 'two' is not a CPU amount");
    assertThat(problems("a.service", "MachineID=a b\n"))
        .containsExactly("MachineID=a b: MachineID takes exactly one value, got 2");
    assertThat(problems("a.service", "MachineOf=%H.service\n")).singleElement().asString()
        .startsWith("MachineOf=%H.service: unsupported specifier %H");
  }

  @Test
  void machineOfMustNameASchedulableOtherUnit() {
    assertThat(problems("a.service", "MachineOf=b\n")).singleElement().asString()
        .contains("invalid unit name 'b': it has no type suffix");
    assertThat(problems("a.service", "MachineOf=b@.service\n")).singleElement().asString()
        .contains("b@.service is a template, which is never scheduled; name an instance such as b@1.service");
    assertThat(problems("a.service", "MachineOf=%n\n"))
        .containsExactly("MachineOf=%n: a unit cannot be placed next to itself");
    assertThat(parse("a.service", "MachineOf=b.service c.service b.service").machineOf())
        .containsExactly("b.service", "c.service");
  }

  @Test
  void everyProblemIsReportedAtOnce() {
    assertThatThrownBy(() -> parse("a.service", "Bogus=1\nGlobal=maybe\nConflicts=[\n"))
        .isInstanceOf(InvalidUnitException.class)
        .hasMessageStartingWith("a.service: unknown option Bogus=")
        .hasMessageContaining("; Global=maybe: not a boolean")
        .hasMessageContaining("; Conflicts=[: malformed pattern");
  }

  @Test
  void replacesIsAGlobAndNeverMatchesItself() {
    XFleetOptions o = parse("master.service", "Replaces=shadow*.service master.service");
    assertThat(o.replaces("shadow.service")).isTrue();
    assertThat(o.replaces("shadow-2.service")).isTrue();
    assertThat(o.replaces("master.service")).isFalse();
    assertThat(o.replaces("other.service")).isFalse();
  }

  @Test
  void invalidUnitNamesAreRefusedAsUnitProblems() {
    assertThatThrownBy(() -> XFleetOptions.parse("bad name.service", UnitFile.parse("")))
        .isInstanceOf(InvalidUnitException.class)
        .hasMessageContaining("invalid unit name 'bad name.service'");
    assertThat(XFleetOptions.parse(UnitName.parse("ok.service"), UnitFile.parse("")).unit()).isEqualTo("ok.service");
  }

  @Test
  void oneFileReadForManyNamesGivesEachItsOwnOptions() {
    // a file is read once and its options shared by every name (no specifier in it): the answer
    // for each name must still be what reading it for that name alone gives
    UnitFile f = UnitFile.parse("[X-Fleet]\nMachineOf=b.service\nConflicts=a*.service\n");
    XFleetOptions a1 = XFleetOptions.parse("a1.service", f);
    XFleetOptions a2 = XFleetOptions.parse("a2.service", f);
    assertThat(a1.unit()).isEqualTo("a1.service");
    assertThat(a2.unit()).isEqualTo("a2.service");
    assertThat(a1.conflictsWith("a2.service")).isTrue();
    assertThat(a1.conflictsWith("a1.service")).isFalse();
    assertThat(a2.conflictsWith("a1.service")).isTrue();
    assertThat(a2).isEqualTo(XFleetOptions.builder("a2.service").machineOf("b.service").conflicts("a*.service").build());
    // valid for the others, not for the unit it names (the problem names it)
    assertThatThrownBy(() -> XFleetOptions.parse("b.service", f))
        .isInstanceOf(InvalidUnitException.class)
        .hasMessage("b.service: MachineOf=b.service: a unit cannot be placed next to itself");
    assertThat(XFleetOptions.parse("c.service", f).unit()).isEqualTo("c.service");

    // read for the unit it is invalid for first: the others are still valid
    UnitFile g = UnitFile.parse("[X-Fleet]\nMachineOf=d.service\n");
    assertThatThrownBy(() -> XFleetOptions.parse("d.service", g)).isInstanceOf(InvalidUnitException.class);
    assertThat(XFleetOptions.parse("e.service", g).machineOf()).containsExactly("d.service");

    // a template is checked less than its instances, whichever is read first
    UnitFile t = UnitFile.parse("[X-Fleet]\nMachineOf=web@.service\n");
    assertThat(XFleetOptions.parse("side@.service", t).machineOf()).containsExactly("web@.service");
    assertThatThrownBy(() -> XFleetOptions.parse("side@1.service", t))
        .isInstanceOf(InvalidUnitException.class).hasMessageContaining("web@.service is a template");
    assertThatThrownBy(() -> XFleetOptions.parse("side@2.service", UnitFile.parse("[X-Fleet]\nMachineOf=web@.service\n")))
        .as("an equal file, parsed apart").isInstanceOf(InvalidUnitException.class);
    assertThat(XFleetOptions.parse("side@.service", t).machineOf()).containsExactly("web@.service");

    // options with specifiers are read for each name, the others once
    UnitFile s = UnitFile.parse("[X-Fleet]\nMachineOf=app@%i.service\nConflicts=db@%i.service x*.service\n"
        + "CPUReservation=0.5\nGlobal=maybe\n");
    assertThat(problems("a@1.service", s)).containsExactly("Global=maybe: not a boolean; use true or false");
    UnitFile ok = UnitFile.parse("[X-Fleet]\nMachineOf=app@%i.service\nConflicts=db@%i.service x*.service\n"
        + "CPUReservation=0.5\n");
    XFleetOptions one = XFleetOptions.parse("a@1.service", ok);
    XFleetOptions two = XFleetOptions.parse("a@2.service", ok);
    assertThat(one.machineOf()).containsExactly("app@1.service");
    assertThat(two.machineOf()).containsExactly("app@2.service");
    assertThat(one.conflictsWith("db@1.service")).isTrue();
    assertThat(one.conflictsWith("db@2.service")).isFalse();
    assertThat(two.conflictsWith("db@2.service")).isTrue();
    assertThat(two.conflictsWith("x1.service")).isTrue();
    assertThat(two.reservation()).isEqualTo(new Resources(500, 0));
  }

  private static List<String> problems(String unit, UnitFile file) {
    try {
      XFleetOptions.parse(unit, file);
    } catch (InvalidUnitException e) {
      return e.problems();
    }
    throw new AssertionError("expected " + unit + " to be refused");
  }
}
