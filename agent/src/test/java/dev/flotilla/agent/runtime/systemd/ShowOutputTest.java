package dev.flotilla.agent.runtime.systemd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flotilla.agent.runtime.UnitStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Output as systemd 252 prints it (MainPID first, Id as systemd resolved the name). */
class ShowOutputTest {
  private static final String OUTPUT = """
      MainPID=0
      Id=nope.service
      LoadState=not-found
      ActiveState=inactive
      SubState=dead

      MainPID=113
      Id=a.service
      LoadState=loaded
      ActiveState=active
      SubState=running

      MainPID=0
      Id=alias-target.service
      LoadState=bad-setting
      ActiveState=inactive
      SubState=dead
      """;

  @Test
  void blocksAreMatchedToTheNamesAskedInOrder() {
    var states = ShowOutput.parse(List.of("nope.service", "a.service", "alias.service"), OUTPUT);

    assertThat(states).containsExactly(
        org.assertj.core.api.Assertions.entry("nope.service", UnitStatus.NOT_FOUND),
        org.assertj.core.api.Assertions.entry("a.service", new UnitStatus("loaded", "active", "running", 113)),
        org.assertj.core.api.Assertions.entry("alias.service", new UnitStatus("bad-setting", "inactive", "dead", 0)));
  }

  @Test
  void whenTheCountDoesNotAddUpBlocksAreMatchedById() {
    var states = ShowOutput.parse(List.of("a.service"), OUTPUT);

    assertThat(states).containsOnlyKeys("a.service");
    assertThat(states.get("a.service").mainPid()).isEqualTo(113);
    assertThatThrownBy(() -> ShowOutput.parse(List.of("x.service", "y.service"), OUTPUT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("none with Id=x.service");
  }

  @Test
  void aBlockWithoutAStateIsAnError() {
    assertThatThrownBy(() -> ShowOutput.parse(List.of("a.service"), "Id=a.service\nLoadState=loaded\n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no ActiveState for a.service");
  }
}
