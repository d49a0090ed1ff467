package dev.flotilla.kv.compat3;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One etcdctl v3 script run against etcd 3.4.23 and a candidate at once, compared step by step
 * (exit code, stdout, stderr after {@link Normaliser3}); the whole transcript is written to
 * {@code target/compat3-logs/etcdctl-<label>-etcd-vs-<candidate>.txt}.
 */
final class EtcdctlSideBySide {
  /**
   * @param want the oracle's outcomes, step by step
   * @param differences the steps where the candidate differs and {@code allow} has no reason
   * @param allowed the steps where it differs for a reason {@code allow} gives
   */
  record Result(String candidateName, List<EtcdctlSession3.Outcome> want, List<String> differences,
      List<String> allowed, Path transcript) {}

  private EtcdctlSideBySide() {}

  /**
   * Runs {@code script} on a fresh etcd and a fresh {@code candidate} ("etcd": the control, or
   * "kvd"); their data dirs are named after {@code dirPrefix}.
   */
  static Result run(String label, EtcdctlScript script, String candidate, String dirPrefix, AllowList3 allow)
      throws Exception {
    Path etcdctl = Tools3.etcdctl();
    try (V3Server oracle = V3Server.start("etcd", dirPrefix + "oracle");
        V3Server other = V3Server.start(candidate, dirPrefix + (candidate.equals("etcd") ? "control" : "kvd"))) {
      var a = CompletableFuture.supplyAsync(() -> session(etcdctl, oracle, script));
      var b = CompletableFuture.supplyAsync(() -> session(etcdctl, other, script));
      List<EtcdctlSession3.Outcome> want = a.join();
      List<EtcdctlSession3.Outcome> got = b.join();
      List<String> differences = new ArrayList<>();
      List<String> allowed = new ArrayList<>();
      StringBuilder report = new StringBuilder();
      for (int i = 0; i < want.size(); i++) {
        var w = want.get(i);
        var g = got.get(i);
        String step = "line " + w.step().line() + ": " + w.step().text();
        boolean same = w.shown().equals(g.shown());
        report.append(same ? "same " : "DIFF ").append(step).append('\n');
        if (w.step().stdin() != null) {
          report.append(indent("<<< stdin\n" + w.step().stdin() + ">>>"));
        }
        report.append(indent(w.shown()));
        if (!same) {
          report.append("  >>> ").append(other.name()).append('\n').append(indent(g.shown()));
          String reason = allow.reason(w.step().text());
          String d = step + "\n  etcd:\n" + indent(w.shown()) + "  " + other.name() + ":\n" + indent(g.shown());
          if (reason == null) {
            differences.add(d);
          } else {
            allowed.add(step + " (allowed: " + reason + ")");
          }
        }
      }
      Path file = EtcdV3Server.logDir().resolve("etcdctl-" + label + "-etcd-vs-" + candidate + ".txt");
      Files.writeString(file, report);
      return new Result(other.name(), want, differences, allowed, file);
    }
  }

  private static List<EtcdctlSession3.Outcome> session(Path etcdctl, V3Server s, EtcdctlScript script) {
    try {
      return new EtcdctlSession3(etcdctl, s).run(script);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String indent(String s) {
    return "    " + s.replace("\n", "\n    ") + "\n";
  }
}
