package dev.flotilla.kv.compat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flotilla.kv.compat.V2Normaliser.Normalised;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Compares two normalised sessions answer by answer and describes every difference so that a
 * reader can act on it: step number, label, request, what the reference (etcd) said and what the
 * candidate said. Zero tolerance, except {@code ttl}, which may drift by a few seconds (the servers run
 * the session at different speeds; each ttl is checked against its own expiration).
 */
final class SessionDiff {
  private static final int BODY_PREVIEW = 600;

  private SessionDiff() {
  }

  /** One entry per step that differs (or where either side reported a problem); empty when equal. */
  static List<String> differences(String refName, List<Normalised> ref, String candName, List<Normalised> cand) {
    List<String> out = new ArrayList<>();
    if (ref.size() != cand.size()) {
      out.add("the sessions have " + ref.size() + " (" + refName + ") and " + cand.size() + " (" + candName
          + ") answers");
    }
    for (int i = 0; i < Math.min(ref.size(), cand.size()); i++) {
      List<String> lines = compare(refName, ref.get(i), candName, cand.get(i));
      if (!lines.isEmpty()) {
        Normalised r = ref.get(i);
        StringBuilder sb = new StringBuilder();
        sb.append('#').append(r.seq()).append(' ').append(r.label()).append(": ").append(r.request());
        // requests hold this target's own indexes: show the candidate's only if it differs otherwise
        if (!r.request().replaceAll("\\d+", "#").equals(cand.get(i).request().replaceAll("\\d+", "#"))) {
          sb.append("\n      (").append(candName).append(" sent: ").append(cand.get(i).request()).append(')');
        }
        for (String l : lines) {
          sb.append("\n    ").append(l);
        }
        sb.append("\n    ").append(refName).append(" raw: ").append(preview(r.rawBody()));
        sb.append("\n    ").append(candName).append(" raw: ").append(preview(cand.get(i).rawBody()));
        out.add(sb.toString());
      }
    }
    return out;
  }

  static List<String> compare(String refName, Normalised r, String candName, Normalised c) {
    List<String> d = new ArrayList<>();
    for (String p : r.problems()) {
      d.add("problem on " + refName + ": " + p);
    }
    for (String p : c.problems()) {
      d.add("problem on " + candName + ": " + p);
    }
    if (r.status() != c.status()) {
      d.add("status: " + refName + " " + r.status() + " | " + candName + " " + c.status());
    }
    for (String h : new TreeSet<>(union(r.headers().keySet(), c.headers().keySet()))) {
      String rv = r.headers().get(h);
      String cv = c.headers().get(h);
      if (!Objects.equals(rv, cv)) {
        d.add("header " + h + ": " + refName + " " + show(rv) + " | " + candName + " " + show(cv));
      }
    }
    if (!r.summary().equals(c.summary())) {
      d.add("summary: " + refName + " " + r.summary() + " | " + candName + " " + c.summary());
    }
    if (r.json().size() != c.json().size()) {
      d.add("JSON documents in body: " + refName + " " + r.json().size() + " | " + candName + " " + c.json().size());
    }
    for (int i = 0; i < Math.min(r.json().size(), c.json().size()); i++) {
      json("body[" + i + "]", r.json().get(i), c.json().get(i), refName, candName, d);
    }
    if (!r.text().equals(c.text())) {
      d.add("text body: " + refName + " " + show(r.text()) + " | " + candName + " " + show(c.text()));
    }
    if (!r.escapes().equals(c.escapes())) {
      d.add("JSON escapes used: " + refName + " " + r.escapes() + " | " + candName + " " + c.escapes()
          + " (etcd writes <, >, & as \\u003c \\u003e \\u0026 and other non-ASCII as raw UTF-8)");
    }
    if (r.trailingNewline() != c.trailingNewline()) {
      d.add("body ends with newline: " + refName + " " + r.trailingNewline() + " | " + candName + " "
          + c.trailingNewline());
    }
    return d;
  }

  static void json(String path, JsonNode a, JsonNode b, String an, String bn, List<String> out) {
    if (a.isObject() && b.isObject()) {
      List<String> af = names(a);
      List<String> bf = names(b);
      if (!af.equals(bf)) {
        if (new TreeSet<>(af).equals(new TreeSet<>(bf))) {
          out.add(path + ": field order " + an + " " + af + " | " + bn + " " + bf);
        } else {
          out.add(path + ": fields " + an + " " + af + " | " + bn + " " + bf);
        }
      }
      for (String f : af) {
        if (b.has(f)) {
          json(path + "." + f, a.get(f), b.get(f), an, bn, out);
        }
      }
      return;
    }
    if (a.isArray() && b.isArray()) {
      if (a.size() != b.size()) {
        out.add(path + ": " + an + " has " + a.size() + " elements | " + bn + " has " + b.size());
      }
      for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
        json(path + "[" + i + "]", a.get(i), b.get(i), an, bn, out);
      }
      return;
    }
    // ttl counts down while the session runs, and the two servers run it at different speeds
    // (more so on a loaded machine); each answer's ttl is checked against its own expiration
    // by V2Normaliser, so here a few seconds of drift between the servers are allowed
    if (path.endsWith(".ttl") && a.isIntegralNumber() && b.isIntegralNumber()
        && Math.abs(a.asLong() - b.asLong()) <= TTL_DRIFT_SECONDS) {
      return;
    }
    if (!a.toString().equals(b.toString()) || a.getNodeType() != b.getNodeType()) {
      out.add(path + ": " + an + " " + a + " | " + bn + " " + b);
    }
  }

  static final long TTL_DRIFT_SECONDS = 10;

  private static List<String> names(JsonNode n) {
    List<String> out = new ArrayList<>();
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      out.add(it.next());
    }
    return out;
  }

  private static List<String> union(java.util.Set<String> a, java.util.Set<String> b) {
    List<String> u = new ArrayList<>(a);
    for (String s : b) {
      if (!a.contains(s)) {
        u.add(s);
      }
    }
    return u;
  }

  private static String show(String s) {
    return s == null ? "(absent)" : '"' + s.replace("\n", "\\n") + '"';
  }

  private static String preview(String body) {
    String b = body.replace("\n", "\\n");
    return b.length() <= BODY_PREVIEW ? b : b.substring(0, BODY_PREVIEW) + "... (" + b.length() + " chars)";
  }
}
