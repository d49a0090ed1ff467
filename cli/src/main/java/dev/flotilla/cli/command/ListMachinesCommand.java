package dev.flotilla.cli.command;

import dev.flotilla.cli.client.FleetSchema.Machine;
import dev.flotilla.cli.output.Columns;
import dev.flotilla.cli.output.MachineLegend;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** fleetctl list-machines: MACHINE, IP, METADATA. */
@Command(name = "list-machines", description = "List the machines in the cluster (those whose agent is present).")
public final class ListMachinesCommand extends ListCommand<Machine> {

  @Option(names = {"-l", "--full"}, description = "Do not shorten machine IDs")
  boolean full;

  @Option(names = "--fields", paramLabel = "LIST", defaultValue = "machine,ip,metadata",
      description = "Columns to print: machine, ip, metadata (default: ${DEFAULT-VALUE})")
  String fields;

  @Override
  List<Machine> rows() {
    return client().machines();
  }

  @Override
  Columns<Machine> columns() {
    return new Columns<Machine>()
        .add("machine", (m, full) -> MachineLegend.id(m.id(), full))
        .add("ip", (m, full) -> orDash(m.primaryIp()))
        .add("metadata", (m, full) -> m.metadataMap().isEmpty() ? "-" : metadata(m.metadataMap()));
  }

  /** k=v pairs sorted by key, comma-separated, as fleetctl's formatMetadata. */
  static String metadata(Map<String, String> md) {
    return new TreeMap<>(md).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
        .collect(Collectors.joining(","));
  }

  @Override
  String fieldsSpec() {
    return fields;
  }

  @Override
  boolean full() {
    return full;
  }
}
