package dev.flotilla.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** fctl builds only the command a line names: the same commands, options and help as with all built. */
class FctlCommandsTest {

  private static Fctl root() {
    return new Fctl(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()),
        new PrintStream(new ByteArrayOutputStream()), Map.of());
  }

  @Test
  void theTableNamesEachCommandAsItsAnnotationDoes() {
    CommandLine all = Fctl.commandLine(root(), null);
    assertThat(all.getSubcommands().keySet()).containsExactlyElementsOf(Fctl.COMMANDS.keySet());
    Fctl.COMMANDS.forEach((name, type) ->
        assertThat(all.getSubcommands().get(name).getCommand().getClass()).isEqualTo(type));
  }

  @Test
  void theRootOptionsTakingAValueAreThoseTheScanSkips() {
    Set<String> valued = new HashSet<>();
    Set<String> flags = new HashSet<>();
    for (OptionSpec o : Fctl.commandLine(root(), null).getCommandSpec().options()) {
      if (o.usageHelp() || o.versionHelp()) {
        continue; // help and version build every command
      }
      (o.arity().max() > 0 ? valued : flags).addAll(Set.of(o.names()));
    }
    assertThat(valued).isEqualTo(Fctl.VALUE_OPTIONS);
    assertThat(flags).isEqualTo(Fctl.FLAG_OPTIONS);
  }

  @Test
  void eachCommandAloneHasTheModelItHasAmongAll() {
    CommandLine all = Fctl.commandLine(root(), null);
    Fctl.COMMANDS.forEach((name, type) -> {
      CommandLine alone = Fctl.commandLine(root(), type);
      assertThat(alone.getSubcommands().keySet()).containsExactly(name);
      assertThat(alone.getSubcommands().get(name).getUsageMessage())
          .as(name).isEqualTo(all.getSubcommands().get(name).getUsageMessage());
      assertThat(names(alone.getSubcommands().get(name))).as(name).isEqualTo(names(all.getSubcommands().get(name)));
    });
  }

  private static Set<String> names(CommandLine cl) {
    Set<String> names = new HashSet<>();
    cl.getCommandSpec().options().forEach(o -> names.add(String.join(",", o.names()) + " inherited=" + o.inherited()));
    return names;
  }

  @Test
  void theCommandIsFoundPastTheRootOptions() {
    assertThat(Fctl.invokedCommand(new String[] {"list-units"})).isEqualTo(dev.flotilla.cli.command.ListUnitsCommand.class);
    assertThat(Fctl.invokedCommand(new String[] {"--endpoint", "http://x:1", "--debug", "--output=json", "start", "a"}))
        .isEqualTo(dev.flotilla.cli.command.StartCommand.class);
    assertThat(Fctl.invokedCommand(new String[] {"start", "list-units"})).isEqualTo(dev.flotilla.cli.command.StartCommand.class);
  }

  @Test
  void helpUnknownWordsAndAmbiguousLinesBuildEveryCommand() {
    for (String[] line : new String[][] {
        {}, {"help"}, {"help", "start"}, {"--help"}, {"-h"}, {"--version"}, {"-V"}, {"lsit-units"},
        {"--bogus", "start"}, {"@args.txt"}, {"--endpoint"}, {"--endpoint", "start", "list-units"},
        {"--output", "list-units"}, {"--", "start"}}) {
      assertThat(Fctl.invokedCommand(line)).as(String.join(" ", line)).isNull();
    }
  }
}
