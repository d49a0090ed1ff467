package dev.flotilla.scheduler.unit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class UnitNameTest {

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      // name                | withoutSuffix | prefix | instance | template | instance?
      "foo.service           | foo           | foo    |          | false    | false",
      "foo@.service          | foo@          | foo    |          | true     | false",
      "foo@bar.service       | foo@bar       | foo    | bar      | false    | true",
      "foo@bar@baz.service   | foo@bar@baz   | foo    | bar@baz  | false    | true",
      "foo.1@.service        | foo.1@        | foo.1  |          | true     | false",
      "foo.1@2.service       | foo.1@2       | foo.1  | 2        | false    | true",
      "ssh@.socket           | ssh@          | ssh    |          | true     | false",
      "ssh@1.socket          | ssh@1         | ssh    | 1        | false    | true",
      "web@a.b.c.timer       | web@a.b.c     | web    | a.b.c    | false    | true",
      "dev-sda\\x2d1.device  | dev-sda\\x2d1 | dev-sda\\x2d1 |   | false    | false",
  })
  void partsOfValidNames(String name, String withoutSuffix, String prefix, String instance, boolean template,
      boolean isInstance) {
    UnitName n = UnitName.parse(name);
    assertThat(n.name()).isEqualTo(name);
    assertThat(n.withoutSuffix()).isEqualTo(withoutSuffix);
    assertThat(n.prefix()).isEqualTo(prefix);
    assertThat(n.instance()).isEqualTo(instance == null ? "" : instance);
    assertThat(n.isTemplate()).isEqualTo(template);
    assertThat(n.isInstance()).isEqualTo(isInstance);
  }

  @ParameterizedTest
  @ValueSource(strings = {"a.service", "a.socket", "a.timer", "a.path", "a.mount", "a.automount", "a.device",
      "A-Z_a:z.0\\9.service"})
  void everyScheduledTypeIsValid(String name) {
    assertThat(UnitName.isValid(name)).isTrue();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "foo                | no type suffix",
      ".service           | before the type suffix is empty",
      "foo.target         | unsupported unit type 'target'",
      "foo.swap           | unsupported unit type 'swap'",
      "foo.               | unsupported unit type ''",
      "@foo.service       | starts with '@'",
      "@.service          | starts with '@'",
      "foo bar.service    | character ' ' at position 4",
      "foo/bar.service    | character '/' at position 4",
      "föo.service        | character 'ö' at position 2",
      "data@.mount        | mount units cannot be templates",
      "sda@1.device       | device units cannot be templates",
      "x@y.automount      | automount units cannot be templates",
  })
  void invalidNamesSayWhy(String name, String why) {
    assertThatThrownBy(() -> UnitName.parse(name))
        .isInstanceOf(InvalidUnitNameException.class)
        .hasMessageContaining(why);
  }

  @Test
  void lengthLimitIsSystemds255() {
    String ok = "a".repeat(255 - ".service".length()) + ".service";
    assertThat(UnitName.isValid(ok)).isTrue();
    assertThatThrownBy(() -> UnitName.parse("a" + ok)).hasMessageContaining("256 characters long; the limit is 255");
    assertThatThrownBy(() -> UnitName.parse("")).hasMessageContaining("empty");
  }

  @Test
  void templatesAndInstances() {
    UnitName instance = UnitName.parse("web@3.service");
    assertThat(instance.template()).contains(UnitName.parse("web@.service"));
    assertThat(UnitName.parse("web@.service").instance("7")).isEqualTo(UnitName.parse("web@7.service"));
    assertThat(UnitName.parse("web.service").template()).isEmpty();
    assertThatThrownBy(() -> instance.instance("x")).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> UnitName.parse("web@.service").instance("a b")).isInstanceOf(InvalidUnitNameException.class);
  }
}
