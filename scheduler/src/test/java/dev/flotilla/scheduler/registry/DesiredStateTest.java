package dev.flotilla.scheduler.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DesiredStateTest {

  @Test
  void fleetsJsonSpelling() {
    assertThat(DesiredState.fromJson("launched")).isEqualTo(DesiredState.LAUNCHED);
    assertThat(DesiredState.LOADED.json()).isEqualTo("loaded");
    assertThatThrownBy(() -> DesiredState.fromJson("Launched")).hasMessageContaining("use inactive, loaded or launched");
  }

  @Test
  void onlyNeighbouringStepsAndTheWayThere() {
    assertThat(DesiredState.INACTIVE.isNeighbour(DesiredState.LOADED)).isTrue();
    assertThat(DesiredState.INACTIVE.isNeighbour(DesiredState.LAUNCHED)).isFalse();
    assertThat(DesiredState.LOADED.isNeighbour(DesiredState.LOADED)).isFalse();
    assertThat(DesiredState.INACTIVE.stepToward(DesiredState.LAUNCHED)).isEqualTo(DesiredState.LOADED);
    assertThat(DesiredState.LAUNCHED.stepToward(DesiredState.INACTIVE)).isEqualTo(DesiredState.LOADED);
    assertThat(DesiredState.LOADED.stepToward(DesiredState.LOADED)).isEqualTo(DesiredState.LOADED);
  }
}
