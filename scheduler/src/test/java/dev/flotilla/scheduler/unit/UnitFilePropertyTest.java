package dev.flotilla.scheduler.unit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Round trips over generated unit files: the canonical text reads back as the same unit, and so
 * does any noisy rendering of it (comments, blank lines, blanks around '=', continuation lines
 * with comments inside them, reopened sections, CRLF or CR line ends, a byte order mark).
 */
class UnitFilePropertyTest {

  private static final String VALUE_CHARS = "abcXYZ019 \t\\\"'#;=[]%@/-_.:é日\u000b";

  @Provide
  Arbitrary<UnitFile> unitFiles() {
    Arbitrary<String> sections = Arbitraries.oneOf(
        Arbitraries.of("Unit", "Service", "X-Fleet", "Install", "Socket", "Timer", "Section A"),
        Arbitraries.strings().withChars("abAB09-_ .[]").ofMinLength(1).ofMaxLength(8)
            .map(UnitFilePropertyTest::sectionName));
    Arbitrary<String> keys = Combinators.combine(
        Arbitraries.strings().withChars("ABCDEFxyz").ofLength(1),
        Arbitraries.strings().withChars("abcXYZ019-_. ").ofMaxLength(12))
        .as((a, b) -> Blanks.strip(a + b));
    Arbitrary<String> values = Arbitraries.strings().withChars(VALUE_CHARS).ofMaxLength(40)
        .map(UnitFilePropertyTest::valueOf);
    Arbitrary<UnitOption> options = Combinators.combine(sections, keys, values).as(UnitOption::new);
    return options.list().ofMaxSize(30).map(UnitFile::of);
  }

  private static String sectionName(String s) {
    String t = s.replace("\n", "");
    return t.isEmpty() ? "S" : t;
  }

  /** Strips blanks at the ends, and makes sure the value does not end in an odd backslash run. */
  private static String valueOf(String raw) {
    String v = Blanks.strip(raw);
    return Blanks.endsWithOddBackslashes(v) ? v + "x" : v;
  }

  @Property(tries = 500)
  void canonicalTextReadsBackAsTheSameUnit(@ForAll("unitFiles") UnitFile u) {
    UnitFile back = UnitFile.parse(u.serialize());
    assertThat(back).isEqualTo(u);
    assertThat(back.serialize()).isEqualTo(u.serialize());
    assertThat(back.hash()).isEqualTo(u.hash());
  }

  @Property(tries = 500)
  void noisyRenderingReadsBackAsTheSameUnit(@ForAll("unitFiles") UnitFile u, @ForAll long seed) {
    String noisy = new NoisyRenderer(new Random(seed)).render(u);
    UnitFile back = UnitFile.parse(noisy);
    assertThat(back).as("rendered as:\n%s", noisy).isEqualTo(u);
    assertThat(back.hash()).isEqualTo(u.hash());
  }

  @Property(tries = 300)
  void optionsSurviveTheOptionsApiPath(@ForAll("unitFiles") UnitFile u) {
    // fleet's API carries options, not text: rebuilding from options is the same unit
    assertThat(UnitFile.of(u.options())).isEqualTo(u);
    assertThat(UnitFile.of(u.options()).hash()).isEqualTo(u.hash());
  }

  /** Writes a unit file the way a person might, within what systemd reads the same. */
  static final class NoisyRenderer {
    private final Random r;
    private final String eol;
    private final StringBuilder out = new StringBuilder();

    NoisyRenderer(Random r) {
      this.r = r;
      this.eol = switch (r.nextInt(3)) {
        case 0 -> "\n";
        case 1 -> "\r\n";
        default -> "\r";
      };
    }

    String render(UnitFile u) {
      if (r.nextInt(8) == 0) {
        out.append('\uFEFF');
      }
      noise();
      // interleave sections at random, keeping each section's options in order and the order in
      // which sections first appear (which is what the canonical form groups by)
      Map<String, List<UnitOption>> remaining = new LinkedHashMap<>();
      for (UnitOption o : u.options()) {
        remaining.computeIfAbsent(o.section(), s -> new ArrayList<>()).add(o);
      }
      List<String> opened = new ArrayList<>();
      String current = null;
      while (!remaining.isEmpty()) {
        List<String> names = new ArrayList<>();
        for (String name : remaining.keySet()) {
          names.add(name);
          if (!opened.contains(name)) {
            break; // the next section not yet opened; later ones must wait for it
          }
        }
        String section = names.get(r.nextInt(names.size()));
        if (!opened.contains(section)) {
          opened.add(section);
        }
        List<UnitOption> list = remaining.get(section);
        int take = 1 + r.nextInt(list.size());
        if (!section.equals(current) || r.nextInt(6) == 0) {
          line(blanks() + "[" + section + "]" + blanks());
          current = section;
        }
        for (int i = 0; i < take; i++) {
          option(list.remove(0));
          noise();
        }
        if (list.isEmpty()) {
          remaining.remove(section);
        }
      }
      if (r.nextBoolean() && out.toString().endsWith(eol)) {
        // no line end after the last line
        out.setLength(out.length() - eol.length());
      }
      return out.toString();
    }

    private void option(UnitOption o) {
      String first = blanks() + o.name() + blanks() + "=" + blanks();
      List<String> pieces = split(o.value());
      if (pieces.size() == 1) {
        line(first + pieces.get(0) + (o.value().isEmpty() || r.nextBoolean() ? blanks() : ""));
        return;
      }
      for (int i = 0; i < pieces.size(); i++) {
        boolean last = i == pieces.size() - 1;
        line((i == 0 ? first : "") + pieces.get(i) + (last ? "" : "\\"));
        if (!last && r.nextInt(4) == 0) {
          line(blanks() + (r.nextBoolean() ? "#" : ";") + " inside a continuation \\");
        }
      }
    }

    /** Splits a value at some single spaces, where a continuation reads back the same. */
    private List<String> split(String v) {
      List<String> pieces = new ArrayList<>();
      int start = 0;
      for (int i = 1; i < v.length() - 1; i++) {
        if (v.charAt(i) != ' ' || r.nextInt(3) != 0) {
          continue;
        }
        String piece = v.substring(start, i);
        String rest = Blanks.stripLeading(v.substring(i + 1));
        boolean pieceOk = !Blanks.endsWithOddBackslashes(piece) && !Blanks.strip(piece).isEmpty();
        boolean restOk = !rest.isEmpty() && rest.charAt(0) != '#' && rest.charAt(0) != ';';
        if (pieceOk && restOk) {
          pieces.add(piece);
          start = i + 1;
        }
      }
      pieces.add(v.substring(start));
      return pieces;
    }

    private void noise() {
      int n = r.nextInt(3);
      for (int i = 0; i < n; i++) {
        switch (r.nextInt(3)) {
          case 0 -> line("");
          case 1 -> line(blanks() + "# a comment = [not a section]");
          default -> line(blanks() + "; another comment \\");
        }
      }
    }

    private String blanks() {
      return switch (r.nextInt(4)) {
        case 0 -> " ";
        case 1 -> "\t ";
        default -> "";
      };
    }

    private void line(String s) {
      out.append(s).append(eol);
    }
  }
}
