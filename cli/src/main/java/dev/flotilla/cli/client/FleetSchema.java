package dev.flotilla.cli.client;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;

/**
 * fleet's API v1 JSON as a client reads it (fleet's {@code schema/v1.json}). The same shapes as the
 * scheduler's server-side records, kept apart because a client must ignore fields it does not know
 * (a newer fleetd, or fleet itself) and the server's records are package-private to the API.
 */
public final class FleetSchema {
  private FleetSchema() {}

  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record UnitOption(String section, String name, String value) {}

  /** A unit; {@code unscheduledReason} is Flotilla's (why the engine could not place it). */
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Unit(String name, List<UnitOption> options, String desiredState, String currentState,
      @JsonProperty("machineID") String machineId, String unscheduledReason) {

    public List<UnitOption> optionList() {
      return options == null ? List.of() : options;
    }

    public String desired() {
      return desiredState == null ? "" : desiredState;
    }

    public String current() {
      return currentState == null ? "" : currentState;
    }

    public boolean isScheduled() {
      return machineId != null && !machineId.isEmpty();
    }
  }

  @JsonIgnoreProperties(ignoreUnknown = true)
  record UnitPage(List<Unit> units, String nextPageToken) {}

  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record UnitState(String name, String hash, @JsonProperty("machineID") String machineId,
      String systemdLoadState, String systemdActiveState, String systemdSubState) {}

  @JsonIgnoreProperties(ignoreUnknown = true)
  record UnitStatePage(List<UnitState> states, String nextPageToken) {}

  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Machine(String id, @JsonProperty("primaryIP") String primaryIp, Map<String, String> metadata) {
    public Map<String, String> metadataMap() {
      return metadata == null ? Map.of() : metadata;
    }
  }

  @JsonIgnoreProperties(ignoreUnknown = true)
  record MachinePage(List<Machine> machines, String nextPageToken) {}

  /** Flotilla's {@code /flotilla/v1/units/<unit>/status}: systemctl status text from the unit's machine. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record HostStatus(String unit, String machineId, String status) {}

  /**
   * Flotilla's {@code /flotilla/v1/units/<unit>/journal}: lines of the unit's output on one machine,
   * and the cursor past them on that machine (null where it cannot be followed).
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record JournalPage(String unit, String machineId, List<String> lines, String cursor) {
    public List<String> lineList() {
      return lines == null ? List.of() : lines;
    }
  }

  /** What a PUT of a unit sends: options to create it, a desired state to move it. */
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  public record UnitRequest(String name, List<UnitOption> options, String desiredState) {}

  /** Flotilla's batch of unit PUTs ({@code POST /flotilla/v1/units}). */
  record UnitBatch(List<UnitRequest> units) {}

  /** How one unit of a batch went: the status (and message) its own PUT would have had. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  record UnitResult(String name, int status, String message) {}

  @JsonIgnoreProperties(ignoreUnknown = true)
  record UnitBatchResults(List<UnitResult> results) {
    List<UnitResult> resultList() {
      return results == null ? List.of() : results;
    }
  }

  @JsonIgnoreProperties(ignoreUnknown = true)
  record ErrorBody(ErrorEntity error) {}

  @JsonIgnoreProperties(ignoreUnknown = true)
  record ErrorEntity(int code, String message) {}
}
