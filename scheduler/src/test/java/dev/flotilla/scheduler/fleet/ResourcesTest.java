package dev.flotilla.scheduler.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class ResourcesTest {

  @ParameterizedTest
  @CsvSource({
      "0, 0",
      "1048576, 1048576",
      "512K, 524288",
      "512M, 536870912",
      "2G, 2147483648",
      "1.5G, 1610612736",
      "1T, 1099511627776",
      "100B, 100",
      "0.5K, 512",
      "1.0001K, 1024",
  })
  void memoryLikeSystemdsMemoryLimit(String text, long bytes) {
    assertThat(Resources.parseMemory(text)).isEqualTo(bytes);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "2X", "-1M", "1.5.G", "M", "2GB", "2g", "1 G x", "99999999999T"})
  void badMemorySizes(String text) {
    assertThatThrownBy(() -> Resources.parseMemory(text)).isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest
  @CsvSource({
      "0, 0",
      "1, 1000",
      "0.5, 500",
      "2.25, 2250",
      "0.125, 125",
      "50%, 500",
      "250%, 2500",
      "12.5%, 125",
      "100%, 1000",
  })
  void cpuInCoresOrPercentOfOneCpu(String text, long millis) {
    assertThat(Resources.parseCpu(text)).isEqualTo(millis);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "two", "0.0625", "-1", "1.5.0", "50 %", "%", "1024shares"})
  void badCpuAmounts(String text) {
    assertThatThrownBy(() -> Resources.parseCpu(text)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void formatting() {
    assertThat(Resources.formatMemory(2L << 30)).isEqualTo("2 GiB");
    assertThat(Resources.formatMemory(1536L << 20)).isEqualTo("1.5 GiB");
    assertThat(Resources.formatMemory(512L << 20)).isEqualTo("512 MiB");
    assertThat(Resources.formatMemory(100)).isEqualTo("100 B");
    assertThat(Resources.formatMemory(0)).isEqualTo("0 B");
    assertThat(Resources.formatCpu(1500)).isEqualTo("1.5 CPU");
    assertThat(Resources.formatCpu(250)).isEqualTo("0.25 CPU");
    assertThat(Resources.formatCpu(2000)).isEqualTo("2 CPU");
    assertThat(Resources.formatCpu(0)).isEqualTo("0 CPU");
  }

  @Test
  void arithmetic() {
    Resources a = new Resources(500, 1024);
    assertThat(a.plus(a)).isEqualTo(new Resources(1000, 2048));
    assertThat(new Resources(1000, 2048).covers(a)).isTrue();
    assertThat(a.covers(new Resources(501, 0))).isFalse();
    assertThatThrownBy(() -> new Resources(-1, 0)).isInstanceOf(IllegalArgumentException.class);
  }
}
