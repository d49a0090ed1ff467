package dev.flotilla.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.cli.output.TabTable;
import org.junit.jupiter.api.Test;

/** Go's tabwriter(0, 8, 1, '\t', 0) as fleetctl sets it up: known layouts from fleetctl's output. */
class TabTableTest {

  @Test
  void padsEachColumnWithTabsToTheWidestCellPlusOneRoundedTo8() {
    String s = new TabTable()
        .row("UNIT", "MACHINE", "ACTIVE", "SUB")
        .row("hello.service", "113f16a7.../172.17.8.101", "active", "running")
        .render();
    assertThat(s).isEqualTo("UNIT\t\tMACHINE\t\t\t\tACTIVE\tSUB\n"
        + "hello.service\t113f16a7.../172.17.8.101\tactive\trunning\n");
  }

  @Test
  void aCellOfExactlyTabWidthGetsAFullTab() {
    assertThat(new TabTable().row("12345678", "x").row("a", "y").render()).isEqualTo("12345678\tx\na\t\ty\n");
  }

  @Test
  void widthCountsCharactersNotBytes() {
    assertThat(new TabTable().row("héllo", "x").row("abcdefg", "y").render()).isEqualTo("héllo\tx\nabcdefg\ty\n");
  }
}
