package dev.flotilla.scheduler.unit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class WordsTest {

  @Test
  void splitsOnUnquotedBlanks() {
    assertThat(Words.split("a b\t c")).containsExactly("a", "b", "c");
    assertThat(Words.split("  ")).isEmpty();
    assertThat(Words.split("")).isEmpty();
  }

  @Test
  void quotesWrapWholeWordsAndAreRemoved() {
    assertThat(Words.split("\"region=us-east-1\" \"diskType=SSD\"")).containsExactly("region=us-east-1", "diskType=SSD");
    assertThat(Words.split("\"something\" \"some thing\" \"...\"")).containsExactly("something", "some thing", "...");
    assertThat(Words.split("'a b' c")).containsExactly("a b", "c");
    assertThat(Words.split("\"\"")).containsExactly("");
    assertThat(Words.split("'it\"s'")).containsExactly("it\"s");
  }

  @Test
  void backslashEscapesAreKeptButStillEscape() {
    assertThat(Words.split("foo\\\"bar")).containsExactly("foo\\\"bar");
    assertThat(Words.split("\"foo\\\"bar\"")).containsExactly("foo\\\"bar");
    assertThat(Words.split("a\\ b c")).containsExactly("a\\ b", "c");
    assertThat(Words.split("dev-sda\\x2d1.device")).containsExactly("dev-sda\\x2d1.device");
  }

  @Test
  void aQuoteInsideAnUnquotedWordIsLiteral() {
    assertThat(Words.split("bar\"")).containsExactly("bar\"");
    assertThat(Words.split("a\"b c\"")).containsExactly("a\"b", "c\"");
  }

  @Test
  void badQuotingIsRefused() {
    assertThatThrownBy(() -> Words.split("\"bar")).hasMessageContaining("unterminated double quote");
    assertThatThrownBy(() -> Words.split("\"bar\" \"")).hasMessageContaining("unterminated double quote starting at column 7");
    assertThatThrownBy(() -> Words.split("'a'b")).hasMessageContaining("must be followed by a blank");
  }

  @Test
  void fleetsMultivalueExamples() {
    // fleet's parseMultivalueLine test table, where fleet's answer was right
    assertThat(Words.split("\"bar\" \"ping\" \"pong\"")).isEqualTo(List.of("bar", "ping", "pong"));
    assertThat(Words.split("\"bar\"")).isEqualTo(List.of("bar"));
  }
}
