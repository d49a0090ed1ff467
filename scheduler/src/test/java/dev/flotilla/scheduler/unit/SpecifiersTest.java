package dev.flotilla.scheduler.unit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class SpecifiersTest {

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "foo@bar.service | %n | foo@bar.service",
      "foo@bar.service | %N | foo@bar",
      "foo@bar.service | %p | foo",
      "foo@bar.service | %i | bar",
      "foo.socket      | %n | foo.socket",
      "foo.socket      | %N | foo",
      "foo.socket      | %p | foo",
      "foo.socket      | %i | ''",
      "foo@.service    | %i | ''",
      "foo@.service    | %p | foo",
      "foo@1.service   | %p.socket | foo.socket",
      "db@2.service    | web@%i.service | web@2.service",
      "a@b@c.service   | [%p/%i/%N] | [a/b@c/a@b@c]",
      "x.service       | 100%% | 100%",
      "x.service       | %%n | %n",
  })
  void expandsForTheUnitName(String unit, String value, String expected) {
    assertThat(Specifiers.expand(value, UnitName.parse(unit))).isEqualTo(expected);
  }

  @Test
  void refusesSpecifiersFleetDoesNotKnow() {
    UnitName n = UnitName.parse("x.service");
    assertThatThrownBy(() -> Specifiers.expand("%H.service", n)).hasMessageContaining("unsupported specifier %H");
    assertThatThrownBy(() -> Specifiers.expand("%m", n)).hasMessageContaining("%m");
    assertThatThrownBy(() -> Specifiers.expand("50%", n)).hasMessageContaining("write %% for a literal %");
  }
}
