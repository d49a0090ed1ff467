package dev.flotilla.kv.compat3;

import dev.flotilla.kv.compat.ClientRun;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Debian's python3-etcd3 (gRPC) and python3-etcd3gw (the JSON gateway) run the same session
 * script ({@code compat3/*_session.py}: put/get/prefix, txn, lease, watch, lock) against etcd
 * 3.4.23 and kvd at once, with {@code /usr/bin/python3}; the scripts print comparable
 * transcripts, which must be equal line by line, except where {@code compat3/python-allow.txt}
 * lets a line (by its label) differ and says why. A line starting with BROKEN fails on its own.
 */
class PythonCompat3Test {
  private static final Duration RUN_TIMEOUT = Duration.ofSeconds(60);

  @ParameterizedTest(name = "{0}")
  @CsvSource({"etcd3_session.py, etcd3, python3-etcd3", "etcd3gw_session.py, etcd3gw, python3-etcd3gw"})
  @Timeout(120)
  void sameTranscriptOnKvdAsOnEtcd(String script, String module, String debianPackage) throws Exception {
    Path python = Tools3.python(module, debianPackage);
    Path file = Path.of(PythonCompat3Test.class.getResource("/compat3/" + script).toURI());
    AllowList3 allow = AllowList3.load("/compat3/python-allow.txt");
    try (V3Server etcd = V3Server.start("etcd", "oracle"); V3Server kvd = V3Server.start("kvd", "kvd")) {
      var a = CompletableFuture.supplyAsync(() -> run(python, file, etcd));
      var b = CompletableFuture.supplyAsync(() -> run(python, file, kvd));
      ClientRun.Result want = a.join();
      ClientRun.Result got = b.join();
      String name = script.replace(".py", "");
      Files.writeString(EtcdV3Server.logDir().resolve(name + "-etcd.txt"), want.stdout() + "--- stderr\n" + want.stderr());
      Files.writeString(EtcdV3Server.logDir().resolve(name + "-kvd.txt"), got.stdout() + "--- stderr\n" + got.stderr());
      assertThat(want.exitCode()).as("%s against etcd: exit code; stderr:\n%s", script, want.stderr()).isZero();
      assertThat(want.stdout()).as("%s against etcd", script).doesNotContain("BROKEN").endsWith("done\n");
      List<String> w = List.of(want.stdout().split("\n", -1));
      List<String> g = List.of(got.stdout().split("\n", -1));
      List<String> diff = new ArrayList<>();
      for (Transcripts.Difference d : Transcripts.differences(w, g)) {
        String why = reason(allow, d.etcd());
        if (why == null) {
          diff.add(d.toString());
        } else {
          System.out.println(script + ": allowed difference (" + why + "):\n  " + d);
        }
      }
      assertThat(diff).as("%s lines where kvd differs from etcd (kvd's stderr:\n%s)", script, got.stderr()).isEmpty();
      assertThat(got.exitCode()).as("%s against kvd: exit code", script).isZero();
    }
  }

  /** The allow-list reason for a line whose label (the text before its answer) is listed. */
  private static String reason(AllowList3 allow, String line) {
    for (var e : allow.entries().entrySet()) {
      if (line.startsWith(e.getKey() + " ")) {
        return e.getValue();
      }
    }
    return null;
  }

  private static ClientRun.Result run(Path python, Path script, V3Server s) {
    return ClientRun.run(List.of(python.toString(), script.toString(), s.clientUrl().getHost(),
        Integer.toString(s.clientUrl().getPort())), Map.of("PYTHONDONTWRITEBYTECODE", "1"), null, RUN_TIMEOUT);
  }
}
