package dev.flotilla.kv.v2;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class V2PathTest {
  /** Expected values are Go's path.Clean("/" + p). */
  @ParameterizedTest
  @CsvSource({
      "'', /", "/, /", "//, /", "a, /a", "/a, /a", "/a/, /a", "/a//b, /a/b", "/a/./b, /a/b",
      "/a/../b, /b", "/../a, /a", "/a/b/.., /a", "/.a, /.a", "/..a, /..a", "/a/.../b, /a/.../b",
      "/a/b/../../.., /", "/_h/x, /_h/x"})
  void cleansLikeGo(String in, String expected) {
    assertThat(V2Path.clean(in)).isEqualTo(expected);
    assertThat(V2Path.isClean(expected)).isTrue();
  }
}
