package dev.flotilla.scheduler.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;

/**
 * fleet's API v1 JSON shapes (fleet's {@code schema/v1.json}). Empty fields are left out, as
 * fleet's generated Go types do ({@code omitempty} on every field); unknown fields in requests
 * are ignored, as Go's decoder does.
 */
final class FleetJson {

  private FleetJson() {}

  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  @JsonIgnoreProperties(ignoreUnknown = true)
  record UnitOption(String section, String name, String value) {}

  /**
   * A unit. {@code unscheduledReason} is ours (why the engine could not place it); fleet's clients
   * ignore it.
   */
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  @JsonIgnoreProperties(ignoreUnknown = true)
  record Unit(String name, List<UnitOption> options, String desiredState, String currentState,
      @JsonProperty("machineID") String machineId, String unscheduledReason) {}

  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  record UnitPage(List<Unit> units, String nextPageToken) {}

  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  record UnitState(String name, String hash, @JsonProperty("machineID") String machineId,
      String systemdLoadState, String systemdActiveState, String systemdSubState) {}

  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  record UnitStatePage(List<UnitState> states, String nextPageToken) {}

  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  record Machine(String id, @JsonProperty("primaryIP") String primaryIp, Map<String, String> metadata) {}

  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  record MachinePage(List<Machine> machines, String nextPageToken) {}

  /** One operation of a machines PATCH (JSON Patch, restricted to metadata). */
  @JsonIgnoreProperties(ignoreUnknown = true)
  record MetadataOp(String op, String path, String value) {}

  /** Flotilla's batch of unit PUTs: each unit as a fleet PUT body, with its name. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  record UnitBatch(List<Unit> units) {}

  /**
   * How one unit of a batch went: the status its own {@code PUT /fleet/v1/units/<name>} would have
   * had, and for an error fleet's message.
   */
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  record UnitResult(String name, int status, String message) {}

  record UnitBatchResults(List<UnitResult> results) {}

  /** fleet's error body: {@code {"error":{"code":404,"message":"unit does not exist"}}}. */
  record ErrorBody(ErrorEntity error) {}

  record ErrorEntity(int code, String message) {}
}
