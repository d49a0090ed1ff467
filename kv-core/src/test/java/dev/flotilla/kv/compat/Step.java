package dev.flotilla.kv.compat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One scripted exchange of a differential session ({@link V2Session}). Paths, form values and raw
 * bodies may hold references to earlier responses of the same target, resolved at run time:
 * <ul>
 *   <li>{@code {idx:L}}: header X-Etcd-Index of the response to step {@code L};
 *   <li>{@code {mod:L}}, {@code {created:L}}: its {@code node.modifiedIndex} / {@code node.createdIndex};
 *   <li>{@code {seq:L}}: its {@code node.createdIndex} as a 20-digit in-order key name;
 * </ul>
 * each optionally followed by a space and {@code +n} or {@code -n}: {@code {idx:fill -999}}.
 * The script never holds an absolute index, so two servers whose indexes start at different
 * numbers still run the same session.
 */
sealed interface Step permits Step.Call, Step.Watch, Step.Bulk {

  String label();

  /**
   * One request. {@code form} goes URL-encoded into the body (PUT/POST) with Content-Type
   * {@code application/x-www-form-urlencoded} unless {@code rawBody} is given; {@code raw} sends
   * the request over a plain socket, byte for byte, for request lines the JDK client refuses
   * (bad percent-escapes).
   */
  record Call(String label, String method, String path, List<Map.Entry<String, String>> form,
      String rawBody, String contentType, boolean raw) implements Step {

    static final String FORM = "application/x-www-form-urlencoded";

    public Call {
      form = List.copyOf(form);
    }

    /** The same request without a Content-Type header (etcd then ignores the body). */
    Call noContentType() {
      return new Call(label, method, path, form, rawBody, null, raw);
    }

    /** The same request with {@code body} sent as is (already URL-encoded). */
    Call body(String body) {
      return new Call(label, method, path, List.of(), body, contentType == null ? FORM : contentType, raw);
    }

    /** The same request sent over a plain socket, request line untouched. */
    Call overSocket() {
      return new Call(label, method, path, form, rawBody, contentType, true);
    }

    Call withLabel(String newLabel) {
      return new Call(newLabel, method, path, form, rawBody, contentType, raw);
    }
  }

  /**
   * A long poll ({@code wait=true}) that must be answered by one of {@code triggers}: the watch is
   * sent, its response headers awaited (etcd flushes them as soon as the watcher is registered),
   * then the triggers run in order, then the watch body is read: one event, or {@code events}
   * newline-terminated events of a {@code stream=true} watch, after which the client hangs up.
   */
  record Watch(String label, String path, int events, List<Call> triggers) implements Step {
    public Watch {
      triggers = List.copyOf(triggers);
    }
  }

  /** {@code count} copies of {@code template} ({@code {i}} in its path/form replaced by 1..count); the last response is recorded. */
  record Bulk(String label, int count, Call template) implements Step {
  }

  /** form pairs k1, v1, k2, v2, ... */
  static List<Map.Entry<String, String>> pairs(String... kv) {
    if (kv.length % 2 != 0) {
      throw new IllegalArgumentException("form pairs need an even number of strings, got " + kv.length);
    }
    List<Map.Entry<String, String>> out = new ArrayList<>();
    for (int i = 0; i < kv.length; i += 2) {
      out.add(Map.entry(kv[i], kv[i + 1]));
    }
    return out;
  }
}
