package dev.flotilla.scheduler.unit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class UnitFileParserTest {

  private static UnitOption opt(String section, String name, String value) {
    return new UnitOption(section, name, value);
  }

  @Test
  void helloServiceFromFleetsGettingStarted() {
    UnitFile u = UnitFiles.load("hello.service");
    assertThat(u.sections()).containsExactly("Unit", "Service");
    assertThat(u.options()).containsExactly(
        opt("Unit", "Description", "Hello World"),
        opt("Service", "ExecStart", "/bin/bash -c \"while true; do echo \\\"Hello, world\\\"; sleep 1; done\""));
  }

  @Test
  void repeatedKeysKeepTheirOrder() {
    UnitFile u = UnitFiles.load("web@.service");
    assertThat(u.rawValues("Service", "ExecStartPre")).containsExactly(
        "-/usr/bin/docker kill web-%i", "-/usr/bin/docker rm web-%i", "/usr/bin/docker pull nginx:stable");
    assertThat(u.value("X-Fleet", "Conflicts")).contains("web@*.service");
    assertThat(u.value("Unit", "Description")).contains("Web server %i");
  }

  @Test
  void continuationsCommentsCrlfAndResets() {
    UnitFile u = UnitFiles.load("wrapped.service");
    assertThat(u.value("Unit", "Description")).contains("Wrapped     and commented");
    assertThat(u.rawValues("Service", "Environment")).containsExactly("A=1", "", "B=2    C=3");
    assertThat(u.values("Service", "Environment")).containsExactly("B=2    C=3");
    assertThat(u.value("Service", "ExecStart")).contains("/bin/app      --flag=1      --flag=2");
  }

  @Test
  void theExampleOfSystemdSyntaxManPage() {
    String text = """
        [Section A]
        KeyOne=value 1
        KeyTwo=value 2

        # a comment

        [Section B]
        Setting="something" "some thing" "..."
        KeyTwo=value 2 \\
               value 2 continued

        [Section C]
        KeyThree=value 3\\
        # this line is ignored
        ; this line is ignored too
               value 3 continued
        """;
    UnitFile u = UnitFile.parse(text);
    assertThat(u.options()).containsExactly(
        opt("Section A", "KeyOne", "value 1"),
        opt("Section A", "KeyTwo", "value 2"),
        opt("Section B", "Setting", "\"something\" \"some thing\" \"...\""),
        opt("Section B", "KeyTwo", "value 2         value 2 continued"),
        opt("Section C", "KeyThree", "value 3        value 3 continued"));
  }

  @Test
  void blanksAroundTheEqualsSignAndTheLineAreRemovedButNotInside() {
    UnitFile u = UnitFile.parse("  [Unit]  \n\t Description \t=\t a  b \t\n");
    assertThat(u.options()).containsExactly(opt("Unit", "Description", "a  b"));
  }

  @Test
  void onlyTheFirstEqualsSignSplits() {
    UnitFile u = UnitFile.parse("[Service]\nEnvironment=A=1 B==2\n");
    assertThat(u.value("Service", "Environment")).contains("A=1 B==2");
  }

  @Test
  void commentsStartWithHashOrSemicolonAfterBlanksAndNotElsewhere() {
    UnitFile u = UnitFile.parse("""
        [Unit]
        # comment
        ; comment
           # indented comment
        Description=not # a comment
        """);
    assertThat(u.options()).containsExactly(opt("Unit", "Description", "not # a comment"));
  }

  @Test
  void anEvenRunOfBackslashesDoesNotContinue() {
    UnitFile u = UnitFile.parse("[Service]\nA=x\\\\\nB=y\\\\\\\nz\n");
    assertThat(u.value("Service", "A")).contains("x\\\\");
    assertThat(u.value("Service", "B")).contains("y\\\\ z");
  }

  @Test
  void aBackslashInTheMiddleIsNotAContinuation() {
    // go-systemd's early lexer split here; systemd does not
    UnitFile u = UnitFile.parse("[Service]\nExecStart=/bin/sh -c \"echo \\$HOME\"\nUser=nobody\n");
    assertThat(u.value("Service", "ExecStart")).contains("/bin/sh -c \"echo \\$HOME\"");
    assertThat(u.value("Service", "User")).contains("nobody");
  }

  @Test
  void anEmptyLineEndsAContinuation() {
    UnitFile u = UnitFile.parse("[Service]\nA=one \\\n\nB=two\n");
    assertThat(u.options()).containsExactly(opt("Service", "A", "one"), opt("Service", "B", "two"));
  }

  @Test
  void aContinuationAtTheEndOfTheFileEndsThere() {
    UnitFile u = UnitFile.parse("[Service]\nA=one \\");
    assertThat(u.value("Service", "A")).contains("one");
  }

  @Test
  void aCommentEndingInABackslashDoesNotContinue() {
    UnitFile u = UnitFile.parse("[Unit]\n# note \\\nDescription=x\n");
    assertThat(u.value("Unit", "Description")).contains("x");
  }

  @Test
  void aContinuedLineMayJoinIntoTheNextAssignmentAsSystemdDoes() {
    // fleet's go-systemd kept "#pang" in the value; systemd skips the comment and keeps joining
    UnitFile u = UnitFile.parse("[Service]\nExecStopPre=echo\\\n#pang\nExecStopPost=echo\n");
    assertThat(u.options()).containsExactly(opt("Service", "ExecStopPre", "echo ExecStopPost=echo"));
  }

  @Test
  void lineEndingsMayBeLfCrlfOrCr() {
    UnitFile lf = UnitFile.parse("[Unit]\nA=1\nB=2\n");
    assertThat(UnitFile.parse("[Unit]\r\nA=1\r\nB=2\r\n")).isEqualTo(lf);
    assertThat(UnitFile.parse("[Unit]\rA=1\rB=2\r")).isEqualTo(lf);
    assertThat(UnitFile.parse("\uFEFF[Unit]\nA=1\nB=2")).isEqualTo(lf);
  }

  @Test
  void repeatedSectionsAccumulateAndSectionsAreGroupedInFirstSeenOrder() {
    UnitFile u = UnitFile.parse("[Unit]\nA=1\n[Service]\nB=2\n[Unit]\nC=3\n");
    assertThat(u.sections()).containsExactly("Unit", "Service");
    assertThat(u.options()).containsExactly(opt("Unit", "A", "1"), opt("Unit", "C", "3"), opt("Service", "B", "2"));
  }

  @Test
  void emptyAssignmentResetsTheListAndAScalarTakesTheLastValue() {
    UnitFile u = UnitFile.parse("""
        [Service]
        ExecStartPre=/bin/a
        ExecStartPre=/bin/b
        ExecStartPre=
        ExecStartPre=/bin/c
        Restart=always
        Restart=no
        User=x
        User=
        """);
    assertThat(u.values("Service", "ExecStartPre")).containsExactly("/bin/c");
    assertThat(u.rawValues("Service", "ExecStartPre")).containsExactly("/bin/a", "/bin/b", "", "/bin/c");
    assertThat(u.value("Service", "Restart")).contains("no");
    assertThat(u.value("Service", "User")).isEmpty();
    assertThat(u.values("Service", "Missing")).isEmpty();
  }

  @Test
  void keysAndSectionsAreCaseSensitive() {
    UnitFile u = UnitFile.parse("[Service]\nexecstart=/bin/a\n");
    assertThat(u.value("Service", "ExecStart")).isEmpty();
    assertThat(u.value("service", "execstart")).isEmpty();
    assertThat(u.value("Service", "execstart")).contains("/bin/a");
  }

  @Test
  void sectionNamesMayContainBlanks() {
    UnitFile u = UnitFile.parse("[Section A]\nK=v\n");
    assertThat(u.sections()).containsExactly("Section A");
  }

  @Test
  void emptyFileAndCommentOnlyFileHaveNoOptions() {
    assertThat(UnitFile.parse("").options()).isEmpty();
    assertThat(UnitFile.parse("# nothing\n\n; here\n").options()).isEmpty();
    assertThat(UnitFile.parse("[Unit]\n").options()).isEmpty();
  }

  @Test
  void malformedInputIsRefusedWithTheLineNumber() {
    assertError("[Unit]\nDescription=x\nnonsense upon stilts\n", 3, "missing '=' in 'nonsense upon stilts'");
    assertError("\n\n[Unit\nA=1\n", 3, "invalid section header '[Unit'");
    assertError("[Unit] trailing\n", 1, "invalid section header");
    assertError("[]\n", 1, "empty section name");
    assertError("Description=x\n[Unit]\n", 1, "comes before any section");
    assertError(">>>>>>>\n[Service]\nExecStart=jim\n", 1, "comes before any section");
    assertError("[Unit]\n=value\n", 2, "empty option name");
    assertError("[Unit]\n.include /etc/foo\n", 2, ".include is not supported");
    assertError("[Unit]\nA=1\nB=x\\ \n", 3, "ends with a backslash followed by blanks");
    assertError("[Unit]\nA=a\0b\n", 2, "NUL");
  }

  @Test
  void theLineOfAContinuedAssignmentIsWhereItStarts() {
    assertError("[Service]\nA=1\nno equals \\\nsign here\n", 3, "missing '='");
  }

  @Test
  void aLineLongerThanOneMebibyteIsRefused() {
    String big = "[Service]\nA=" + "x".repeat(UnitFileParser.MAX_LINE) + "\n";
    assertError(big, 2, "line longer than");
    String continued = "[Service]\nA=" + ("y".repeat(1000) + "\\\n").repeat(1100);
    assertError(continued, 2, "line longer than");
  }

  private static void assertError(String text, int line, String fragment) {
    assertThatThrownBy(() -> UnitFile.parse(text))
        .isInstanceOfSatisfying(UnitFileSyntaxException.class, e -> {
          assertThat(e.line()).isEqualTo(line);
          assertThat(e.getMessage()).startsWith("line " + line + ": ").contains(fragment);
        });
  }

  @Test
  void everyTestUnitParses() {
    for (String name : List.of("hello.service", "web@.service", "web-announce@.service", "backup.timer",
        "backup.service", "node-exporter.service", "var-lib-data.mount", "wrapped.service")) {
      UnitFile u = UnitFiles.load(name);
      assertThat(u.options()).as(name).isNotEmpty();
      assertThat(UnitFile.parse(u.serialize())).as(name).isEqualTo(u);
    }
  }
}
