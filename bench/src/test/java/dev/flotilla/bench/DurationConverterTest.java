package dev.flotilla.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class DurationConverterTest {
    private final DurationConverter converter = new DurationConverter();

    @Test
    void readsWrkStyleDurations() {
        assertThat(converter.convert("10s")).isEqualTo(Duration.ofSeconds(10));
        assertThat(converter.convert("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(converter.convert("1.5s")).isEqualTo(Duration.ofMillis(1500));
        assertThat(converter.convert("2m")).isEqualTo(Duration.ofMinutes(2));
        assertThat(converter.convert("3")).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void rejectsOtherText() {
        assertThatThrownBy(() -> converter.convert("10 sec"))
                .isInstanceOf(CommandLine.TypeConversionException.class)
                .hasMessageContaining("'10 sec' is not a duration");
    }
}
