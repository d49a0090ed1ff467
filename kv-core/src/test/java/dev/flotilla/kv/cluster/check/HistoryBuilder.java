package dev.flotilla.kv.cluster.check;

import dev.flotilla.kv.cluster.check.Op.Kind;
import dev.flotilla.kv.cluster.check.Op.Outcome;
import java.util.ArrayList;
import java.util.List;

/** Hand-written histories for tests: {@code new HistoryBuilder().write(1, "a", 0, 10).read(2, "a", 20, 30)}. */
final class HistoryBuilder {

  private final List<Op> ops = new ArrayList<>();
  private String key = "/k";

  /** Later ops go to {@code key} (the default is {@code /k}). */
  HistoryBuilder on(String key) {
    this.key = key;
    return this;
  }

  /** A read that returned {@code observed} (null: key not found). */
  HistoryBuilder read(int client, String observed, long call, long ret) {
    return add(client, Kind.READ, null, null, call, ret, Outcome.OK, observed);
  }

  HistoryBuilder readUnknown(int client, long call) {
    return add(client, Kind.READ, null, null, call, Op.NEVER, Outcome.UNKNOWN, null);
  }

  HistoryBuilder write(int client, String value, long call, long ret) {
    return add(client, Kind.WRITE, null, value, call, ret, Outcome.OK, null);
  }

  HistoryBuilder writeUnknown(int client, String value, long call) {
    return add(client, Kind.WRITE, null, value, call, Op.NEVER, Outcome.UNKNOWN, null);
  }

  HistoryBuilder cas(int client, String expected, String value, boolean ok, long call, long ret) {
    return add(client, Kind.CAS, expected, value, call, ret, ok ? Outcome.OK : Outcome.FAIL, null);
  }

  HistoryBuilder casUnknown(int client, String expected, String value, long call) {
    return add(client, Kind.CAS, expected, value, call, Op.NEVER, Outcome.UNKNOWN, null);
  }

  HistoryBuilder create(int client, String value, boolean ok, long call, long ret) {
    return add(client, Kind.CREATE, null, value, call, ret, ok ? Outcome.OK : Outcome.FAIL, null);
  }

  HistoryBuilder createUnknown(int client, String value, long call) {
    return add(client, Kind.CREATE, null, value, call, Op.NEVER, Outcome.UNKNOWN, null);
  }

  HistoryBuilder delete(int client, boolean ok, long call, long ret) {
    return add(client, Kind.DELETE, null, null, call, ret, ok ? Outcome.OK : Outcome.FAIL, null);
  }

  HistoryBuilder deleteUnknown(int client, long call) {
    return add(client, Kind.DELETE, null, null, call, Op.NEVER, Outcome.UNKNOWN, null);
  }

  private HistoryBuilder add(int client, Kind kind, String expected, String value, long call,
      long ret, Outcome outcome, String observed) {
    ops.add(new Op(ops.size(), client, key, kind, expected, value, call, ret, outcome, observed));
    return this;
  }

  List<Op> ops() {
    return List.copyOf(ops);
  }
}
