package dev.flotilla.agent.runtime.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flotilla.scheduler.api.UnitHost.JournalPage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The process runtime's log files read with a cursor, on real files: every whole line once, in order. */
class UnitLogFilesTest {
  @TempDir
  Path dir;

  private Path log(String unit) {
    return dir.resolve(unit + ".log");
  }

  private void append(String unit, String text) throws IOException {
    Files.writeString(log(unit), text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  @Test
  void aFollowerGetsEachWholeLineOnceAndWaitsForAPartialOne() throws IOException {
    UnitLogFiles logs = new UnitLogFiles(dir);
    JournalPage none = logs.tail("a.service", 10);
    assertThat(none.lines()).isEmpty();
    append("a.service", "one\ntwo\nthree\nfour\npart");
    JournalPage first = logs.after("a.service", none.cursor()); // the log appeared: from its beginning
    assertThat(first.lines()).containsExactly("one", "two", "three", "four");
    assertThat(logs.tail("a.service", 2).lines()).containsExactly("three", "four");
    assertThat(logs.tail("a.service", 2).cursor()).isEqualTo(first.cursor());

    JournalPage waiting = logs.after("a.service", first.cursor());
    assertThat(waiting.lines()).isEmpty();
    assertThat(waiting.cursor()).isEqualTo(first.cursor());
    append("a.service", "ial\n\nsame\nsame\n");
    assertThat(logs.after("a.service", waiting.cursor()).lines()).containsExactly("partial", "", "same", "same");
  }

  @Test
  void tailFindsTheLastLinesOfALogLargerThanItsWindow() throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 150_000; i++) {
      sb.append("line ").append(i).append('\n');
    }
    append("big.service", sb.toString());
    UnitLogFiles logs = new UnitLogFiles(dir);
    assertThat(logs.tail("big.service", 3).lines()).containsExactly("line 149997", "line 149998", "line 149999");
    List<String> many = logs.tail("big.service", 10_000).lines();
    assertThat(many).hasSize(10_000);
    assertThat(many.get(0)).isEqualTo("line 140000");
    assertThat(logs.tail("big.service", 0).lines()).isEmpty();
    assertThat(logs.after("big.service", logs.tail("big.service", 0).cursor()).lines()).isEmpty();

    // a follower far behind (1.8 MB) catches up in bounded pages, without losing a line
    List<String> all = new ArrayList<>();
    int pages = 1;
    JournalPage page = logs.after("big.service", logs.tail("big.service", 0).cursor().replaceAll(":\\d+$", ":0"));
    all.addAll(page.lines());
    while (!page.lines().isEmpty()) {
      page = logs.after("big.service", page.cursor());
      all.addAll(page.lines());
      pages++;
    }
    assertThat(pages).isGreaterThan(2);
    assertThat(all).hasSize(150_000).startsWith("line 0").endsWith("line 149999");
    assertThatThrownBy(() -> logs.after("big.service", "x:0")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("was not made by this machine");
  }

  @Test
  void aLogMovedAsideIsReadToItsEndThenTheNewOneFromItsStart() throws IOException {
    UnitLogFiles logs = new UnitLogFiles(dir);
    append("r.service", "a\nb\n");
    String cursor = logs.tail("r.service", 10).cursor();
    append("r.service", "c\n");
    Files.move(log("r.service"), dir.resolve("r.service.log.1"));
    append("r.service", "d\n");
    JournalPage rest = logs.after("r.service", cursor);
    assertThat(rest.lines()).containsExactly("c");
    JournalPage next = logs.after("r.service", rest.cursor());
    assertThat(next.lines()).containsExactly("d");

    // truncated below the cursor: read again from the start
    Files.writeString(log("r.service"), "e\n");
    assertThat(logs.after("r.service", next.cursor().replaceAll(":\\d+$", ":100")).lines()).containsExactly("e");
  }

  @Test
  void namesThatAreNotUnitsAreRefused() {
    UnitLogFiles logs = new UnitLogFiles(dir);
    assertThatThrownBy(() -> logs.tail("../../etc/passwd", 1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("invalid unit name");
  }
}
