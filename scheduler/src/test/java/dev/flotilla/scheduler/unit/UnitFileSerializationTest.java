package dev.flotilla.scheduler.unit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class UnitFileSerializationTest {

  @Test
  void hashMatchesFleetsOwnTestVector() {
    // fleet's unit/unit_test.go TestUnitHash: the same text, the same SHA-1
    UnitFile u = UnitFile.parse("[Service]\nExecStart=/bin/sleep 100\n");
    assertThat(u.hash().hex()).isEqualTo("1c6fb6f3684bafb0c173d8b8b957ceff031180c1");
    assertThat(u.hash().shortHex()).isEqualTo("1c6fb6f");
  }

  @Test
  void canonicalTextIsGoSystemdsSerialization() {
    UnitFile u = UnitFile.parse("""
        # comment
        [Unit]
        Description = Foo

        [Service]
        ExecStart=/bin/a \\
          --b
        [Unit]
        After=x.service
        """);
    assertThat(u.serialize()).isEqualTo("""
        [Unit]
        Description=Foo
        After=x.service

        [Service]
        ExecStart=/bin/a    --b
        """);
  }

  @Test
  void hashIgnoresCommentsBlanksAndWrappingButNotValuesOrOrder() {
    UnitFile plain = UnitFile.parse("[Unit]\nDescription=A B\n[Service]\nExecStart=/x\nRestart=always\n");
    UnitFile noisy = UnitFile.parse("; hi\n[Unit]\r\n  Description   =  A\\\nB\n\n\n[Service]\n"
        + "# x\nExecStart=/x\nRestart=always\n");
    UnitFile reordered = UnitFile.parse("[Unit]\nDescription=A B\n[Service]\nRestart=always\nExecStart=/x\n");
    UnitFile changed = UnitFile.parse("[Unit]\nDescription=A  B\n[Service]\nExecStart=/x\nRestart=always\n");
    assertThat(noisy.hash()).isEqualTo(plain.hash());
    assertThat(reordered.hash()).isNotEqualTo(plain.hash());
    assertThat(changed.hash()).isNotEqualTo(plain.hash());
  }

  @Test
  void sectionsInterleavedInTheFileHashLikeGroupedOnes() {
    UnitFile interleaved = UnitFile.parse("[Unit]\nA=1\n[Service]\nB=2\n[Unit]\nC=3\n");
    UnitFile grouped = UnitFile.parse("[Unit]\nA=1\nC=3\n[Service]\nB=2\n");
    assertThat(interleaved).isEqualTo(grouped);
    assertThat(interleaved.hash()).isEqualTo(grouped.hash());
  }

  @Test
  void emptyUnitSerializesToNothing() {
    assertThat(UnitFile.of(List.of()).serialize()).isEmpty();
    assertThat(UnitFile.of(List.of()).hash().hex()).isEqualTo("da39a3ee5e6b4b0d3255bfef95601890afd80709");
  }

  @Test
  void emptyAssignmentsAreKeptAndHashed() {
    UnitFile with = UnitFile.parse("[Service]\nEnvironment=A=1\nEnvironment=\n");
    assertThat(with.serialize()).isEqualTo("[Service]\nEnvironment=A=1\nEnvironment=\n");
    assertThat(UnitFile.parse(with.serialize())).isEqualTo(with);
  }

  @Test
  void optionsThatCouldNotBeReadBackAreRefused() {
    assertThatThrownBy(() -> new UnitOption("Service", "A", "x\\")).hasMessageContaining("double it");
    assertThatThrownBy(() -> new UnitOption("Service", "A", " x")).hasMessageContaining("blanks");
    assertThatThrownBy(() -> new UnitOption("Service", "A", "a\nb")).hasMessageContaining("line break");
    assertThatThrownBy(() -> new UnitOption("Service", "#A", "x")).hasMessageContaining("comment");
    assertThatThrownBy(() -> new UnitOption("Service", "A=B", "x")).hasMessageContaining("'='");
    assertThatThrownBy(() -> new UnitOption("Service", "", "x")).hasMessageContaining("empty");
    assertThatThrownBy(() -> new UnitOption("", "A", "x")).hasMessageContaining("section");
    assertThat(new UnitOption("Service", "A", "x\\\\").value()).isEqualTo("x\\\\");
    assertThat(new UnitOption("Service", "A", "\u000bx").value()).isEqualTo("\u000bx"); // systemd strips only blanks
  }

  @Test
  void unitHashParsesOnlyFortyHexDigits() {
    assertThat(new UnitHash("1c6fb6f3684bafb0c173d8b8b957ceff031180c1").shortHex()).isEqualTo("1c6fb6f");
    assertThatThrownBy(() -> new UnitHash("1c6fb6f")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new UnitHash("1C6FB6F3684BAFB0C173D8B8B957CEFF031180C1"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
