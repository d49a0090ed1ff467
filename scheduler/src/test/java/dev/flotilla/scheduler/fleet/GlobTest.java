package dev.flotilla.scheduler.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class GlobTest {

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "web@*.service       | web@1.service       | true",
      "web@*.service       | web@.service        | true",
      "web@*.service       | web.service         | false",
      "web@*.service       | db@1.service        | false",
      "monitor*            | monitor.service     | true",
      "monitor*            | my-monitor.service  | false",
      "*                   | anything.service    | true",
      "*.socket            | a.service           | false",
      "a?c.service         | abc.service         | true",
      "a?c.service         | ac.service          | false",
      "db@[0-9].service    | db@7.service        | true",
      "db@[0-9].service    | db@x.service        | false",
      "db@[^0-9].service   | db@x.service        | true",
      "db@[^0-9].service   | db@7.service        | false",
      "db@[a-c7].service   | db@7.service        | true",
      "db@[a-c7].service   | db@d.service        | false",
      "x\\*.service        | x*.service          | true",
      "x\\*.service        | xy.service          | false",
      "[\\]a].service      | ].service           | true",
      "*a*b*c*             | xxaxxbxxcxx         | true",
      "*a*b*c*             | xxaxxcxxbxx         | false",
      "a*b*a               | abba                | true",
      "a*b*a               | abab                | false",
      "exact.service       | exact.service       | true",
      "exact.service       | exact.service2      | false",
  })
  void matchesLikeGoPathMatch(String pattern, String name, boolean expected) {
    assertThat(Glob.compile(pattern).matches(name)).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "web[           | unclosed '['",
      "web[a-         | incomplete range",
      "[]             | must be escaped",
      "[^]x]          | must be escaped",
      "[-a]           | must be escaped",
      "[a-]           | incomplete range",
      "web\\          | unescaped backslash",
  })
  void malformedPatternsAreRefused(String pattern, String why) {
    assertThatThrownBy(() -> Glob.compile(pattern)).hasMessageContaining(why);
  }

  @Test
  void literalPatternsKnowIt() {
    assertThat(Glob.compile("a.service").isLiteral()).isTrue();
    assertThat(Glob.compile("a\\*.service").isLiteral()).isTrue();
    assertThat(Glob.compile("a*.service").isLiteral()).isFalse();
    assertThatThrownBy(() -> Glob.compile("")).hasMessageContaining("empty");
  }
}
