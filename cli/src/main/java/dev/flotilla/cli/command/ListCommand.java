package dev.flotilla.cli.command;

import dev.flotilla.cli.output.Columns;
import dev.flotilla.cli.output.JsonOutput;
import java.util.List;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** list-machines, list-units, list-unit-files: a table of fleetctl's columns, or the API objects. */
abstract class ListCommand<T> extends ClusterCommand {

  @Option(names = "--no-legend", description = "Do not print the column headers")
  boolean noLegend;

  /** The rows, in fleetctl's order. */
  abstract List<T> rows();

  abstract Columns<T> columns();

  abstract String fieldsSpec();

  abstract boolean full();

  @Override
  public Integer call() {
    List<String> fields;
    try {
      fields = columns().parse(fieldsSpec());
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    List<T> rows = rows();
    if (json()) {
      JsonOutput.print(out(), rows);
    } else {
      out().print(columns().render(rows, fields, full(), !noLegend));
    }
    out().flush();
    return 0;
  }

  static String orDash(String s) {
    return s == null || s.isEmpty() ? "-" : s;
  }
}
