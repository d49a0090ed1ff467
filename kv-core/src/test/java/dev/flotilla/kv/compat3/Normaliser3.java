package dev.flotilla.kv.compat3;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns one server's client output into text comparable with another server's: what differs
 * between any two servers by nature is replaced, everything else is kept.
 * <ul>
 *   <li>revisions become offsets from the session's start revision ({@code R+3}): a fresh kvd and a
 *       fresh etcd start at different revisions;
 *   <li>cluster, member and lease ids become names in order of appearance ({@code <lease1>}),
 *       in decimal and in hex; URLs become {@code <client-url>}, {@code <peer-url>};
 *   <li>raft term and index, db sizes, timings and log timestamps become {@code <n>}: they count
 *       internal entries (etcd's cluster setup), bytes on disk or time;
 *   <li>a lease's remaining TTL a second or two under its granted TTL becomes {@code <granted>-}:
 *       it depends on how long the client took; equal to the granted TTL stays as it is;
 *   <li>lease lists are sorted: etcd lists its leases in Go map order.
 * </ul>
 */
final class Normaliser3 {
  private static final Pattern REVISION = Pattern.compile(
      "(\"?(?:[A-Za-z_]*[Rr]evision|[A-Za-z_]*_revision)\"?\\s*:\\s*\"?)(\\d+)");
  private static final Pattern COMPACTED = Pattern.compile("(compacted revision )(\\d+)");
  private static final Pattern COUNTERS = Pattern.compile(
      "(\"?(?:raft_term|raftTerm|RaftTerm|raftIndex|raftAppliedIndex|raft_index|raft_applied_index|dbSize|dbSizeInUse|db_size|db_size_in_use)\"?\\s*:\\s*\"?)(\\d+)");
  private static final Pattern STATUS_LINE = Pattern.compile(
      "(<client-url>, <member\\d*>, 3\\.4\\.23, )[0-9.]+ [kMG]?B(, (?:true|false), (?:true|false), )\\d+, \\d+, \\d+,");
  private static final Pattern STATUS_ROW = Pattern.compile(
      "(\\| <client-url> \\| <member\\d*> \\| +3\\.4\\.23 \\| +)[0-9.]+ [kMG]?B( \\| +(?:true|false) \\| +(?:true|false) \\| +)\\d+ \\| +\\d+ \\| +\\d+ \\|");
  private static final Pattern TOOK = Pattern.compile("(took = |\"took\":\")[0-9.]+(?:[µnm]?s)");
  private static final Pattern TS = Pattern.compile("\"ts\":\"[^\"]*\"");
  private static final Pattern CLIENT_UUID = Pattern.compile("client-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  private static final Pattern REMAINING = Pattern.compile("granted with TTL\\((\\d+)s\\), remaining\\((\\d+)s\\)");
  private static final Pattern TTL_JSON = Pattern.compile("\"ttl\":\"?(-?\\d+)\"?,\"granted-ttl\":\"?(\\d+)\"?");
  private static final Pattern LEASE_LIST_JSON = Pattern.compile("(\"leases\":\\[)([^\\]]*)(\\])");
  private static final Pattern TABLE_RULE = Pattern.compile("[-+]{2,}");

  private final V3Server server;
  private long baseRevision;
  /** id value (decimal) → name, in order of registration. */
  private final Map<Long, String> ids = new LinkedHashMap<>();
  private final List<Long> leases = new ArrayList<>();

  Normaliser3(V3Server server) {
    this.server = server;
  }

  void baseRevision(long r) {
    this.baseRevision = r;
  }

  long baseRevision() {
    return baseRevision;
  }

  void cluster(long id) {
    ids.putIfAbsent(id, "<cluster>");
  }

  void member(long id) {
    ids.putIfAbsent(id, "<member>");
  }

  /** Registers a lease id seen granted; returns its number (1-based). */
  int lease(long id) {
    if (!leases.contains(id)) {
      leases.add(id);
      ids.putIfAbsent(id, "<lease" + leases.size() + ">");
    }
    return leases.indexOf(id) + 1;
  }

  /** The {@code n}th lease granted in the session (1-based), or throws. */
  long leaseId(int n) {
    if (n < 1 || n > leases.size()) {
      throw new IllegalStateException("no lease " + n + " granted yet on " + server.name() + " (granted: " + leases.size() + ")");
    }
    return leases.get(n - 1);
  }

  String normalise(String text) {
    String s = text;
    s = s.replace(server.clientUrl().toString(), "<client-url>")
        .replace(server.peerUrl().toString(), "<peer-url>")
        .replace(server.hostPort(), "<client>");
    s = TS.matcher(s).replaceAll("\"ts\":\"<ts>\"");
    s = CLIENT_UUID.matcher(s).replaceAll("client-<uuid>");
    for (var e : ids.entrySet()) {
      long id = e.getKey();
      s = s.replaceAll("(?<![0-9A-Za-z])" + Long.toUnsignedString(id) + "(?![0-9A-Za-z])", e.getValue());
      // etcdctl prints lease ids as %016x and member ids as %x
      s = s.replaceAll("(?<![0-9A-Za-z])0*" + Long.toHexString(id) + "(?![0-9A-Za-z])", e.getValue());
    }
    s = COUNTERS.matcher(s).replaceAll("$1<n>");
    s = TOOK.matcher(s).replaceAll("$1<duration>");
    s = STATUS_LINE.matcher(s).replaceAll("$1<size>$2<term>, <index>, <index>,");
    if (s.contains("| <client-url> |")) {
      s = STATUS_ROW.matcher(s).replaceAll("$1<size>$2<term> | <index> | <index> |");
      s = TABLE_RULE.matcher(s).replaceAll("--").replaceAll(" {2,}", " ");
    }
    s = replaceNumbers(s, REVISION);
    s = replaceNumbers(s, COMPACTED);
    s = remaining(s, REMAINING, true);
    s = remaining(s, TTL_JSON, false);
    s = sortLeaseLists(s);
    return s;
  }

  private String replaceNumbers(String s, Pattern p) {
    Matcher m = p.matcher(s);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      long v = Long.parseLong(m.group(2));
      String rel = v == 0 ? "0" : "R" + (v - baseRevision >= 0 ? "+" : "") + (v - baseRevision);
      m.appendReplacement(out, Matcher.quoteReplacement(m.group(1) + rel));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** A remaining TTL a little under the granted one depends on the client's speed. */
  private static String remaining(String s, Pattern p, boolean grantedFirst) {
    Matcher m = p.matcher(s);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      long granted = Long.parseLong(m.group(grantedFirst ? 1 : 2));
      long left = Long.parseLong(m.group(grantedFirst ? 2 : 1));
      String text = m.group();
      if (left >= 0 && left < granted && left > granted - 3) {
        String g = m.group(grantedFirst ? 2 : 1);
        int at = m.start(grantedFirst ? 2 : 1) - m.start();
        text = text.substring(0, at) + granted + "-" + text.substring(at + g.length());
      }
      m.appendReplacement(out, Matcher.quoteReplacement(text));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static String sortLeaseLists(String s) {
    if (s.startsWith("found ") && s.contains(" leases\n")) {
      String[] lines = s.split("\n", -1);
      List<String> body = new ArrayList<>(List.of(lines).subList(1, lines.length));
      boolean endsWithNewline = body.size() > 0 && body.get(body.size() - 1).isEmpty();
      if (endsWithNewline) {
        body.remove(body.size() - 1);
      }
      body.sort(null);
      return lines[0] + "\n" + String.join("\n", body) + (endsWithNewline ? "\n" : "");
    }
    Matcher m = LEASE_LIST_JSON.matcher(s);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      List<String> items = new ArrayList<>();
      Matcher item = Pattern.compile("\\{[^}]*\\}").matcher(m.group(2));
      while (item.find()) {
        items.add(item.group());
      }
      items.sort(null);
      m.appendReplacement(out, Matcher.quoteReplacement(m.group(1) + String.join(",", items) + m.group(3)));
    }
    m.appendTail(out);
    return out.toString();
  }
}
