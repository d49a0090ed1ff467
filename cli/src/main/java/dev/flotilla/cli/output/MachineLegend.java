package dev.flotilla.cli.output;

import dev.flotilla.cli.client.FleetSchema.Machine;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How fleetctl names a machine in listings: its ID cut to 8 characters and "..." unless
 * {@code --full}, then "/" and its IP when the machine is known ({@code 113f16a7.../10.0.0.1}).
 */
public final class MachineLegend {
  private static final int SHORT_ID = 8;

  private final Map<String, Machine> byId = new HashMap<>();

  public MachineLegend(List<Machine> machines) {
    for (Machine m : machines) {
      byId.put(m.id(), m);
    }
  }

  public static String id(String machineId, boolean full) {
    if (full) {
      return machineId;
    }
    return (machineId.length() <= SHORT_ID ? machineId : machineId.substring(0, SHORT_ID)) + "...";
  }

  /** The ID legend and, for a machine present in the cluster with an IP, "/IP". */
  public String of(String machineId, boolean full) {
    Machine m = byId.get(machineId);
    String legend = id(machineId, full);
    if (m != null && m.primaryIp() != null && !m.primaryIp().isEmpty()) {
      legend += "/" + m.primaryIp();
    }
    return legend;
  }
}
