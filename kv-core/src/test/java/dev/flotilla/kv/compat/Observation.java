package dev.flotilla.kv.compat;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What one target answered to one step, before normalisation.
 *
 * @param seq position in the session (0-based), the same on both targets
 * @param path the request path and query as sent (references resolved)
 * @param requestBody the body as sent, or null
 * @param receivedAt when the response was complete (for checking {@code expiration} against ttl)
 * @param status HTTP status, 0 when there was no response
 * @param headers response headers, names lower-cased, in arrival order per name
 * @param body response body decoded as UTF-8 ("" when none)
 * @param summary extra facts compared verbatim (a bulk step's status counts), or ""
 * @param problems what went wrong running the step on this target (timeouts, unresolved references)
 */
record Observation(int seq, String label, String method, String path, String requestBody,
    Instant receivedAt, int status, Map<String, List<String>> headers, String body, String summary,
    List<String> problems) {

  Observation {
    headers = Map.copyOf(headers);
    problems = List.copyOf(problems);
  }

  String header(String name) {
    List<String> v = headers.get(name.toLowerCase(java.util.Locale.ROOT));
    return v == null || v.isEmpty() ? null : v.get(0);
  }

  /** {@code PUT /v2/keys/a  [value=1]}: the request as a reader wants to see it. */
  String request() {
    return method + " " + path + (requestBody == null || requestBody.isEmpty() ? "" : "  [" + requestBody + "]");
  }
}
