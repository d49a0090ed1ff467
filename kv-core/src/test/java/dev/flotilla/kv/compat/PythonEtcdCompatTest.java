package dev.flotilla.kv.compat;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * python-etcd (Debian's python3-etcd, for /usr/bin/python3) runs {@code compat/python_etcd_session.py}
 * against real etcd and against a candidate (kvd, or a second etcd as control); the script prints
 * normalised facts, which must be identical line for line.
 */
class PythonEtcdCompatTest {
  private static final Path PYTHON = Path.of("/usr/bin/python3");

  @ParameterizedTest(name = "etcd vs {0}")
  @ValueSource(strings = {"etcd", "kvd"})
  @Timeout(120)
  void pythonEtcdSeesTheSame(String candidateKind) throws Exception {
    EtcdProcess.requireEtcd();
    Tools.require(Files.isExecutable(PYTHON), "python3 is missing: no /usr/bin/python3");
    ProcessRun probe = ProcessRun.run(List.of(PYTHON.toString(), "-c", "import etcd"), Map.of(), Duration.ofSeconds(20));
    Tools.require(probe.exitCode() == 0,
        "python-etcd is missing: /usr/bin/python3 cannot import etcd; install Debian's python3-etcd (" + probe.stderr().strip() + ")");
    Path script = Files.createTempFile("python_etcd_session", ".py");
    try (InputStream in = PythonEtcdCompatTest.class.getResourceAsStream("/compat/python_etcd_session.py")) {
      if (in == null) {
        throw new IOException("test resource /compat/python_etcd_session.py not on the classpath");
      }
      Files.write(script, in.readAllBytes());
    }
    try (V2Target candidate = Targets.start(candidateKind, candidateKind.equals("etcd") ? "py-control" : "py-kvd");
        V2Target reference = EtcdProcess.start("py-reference")) {
      CompletableFuture<ProcessRun> ref = CompletableFuture.supplyAsync(() -> session(script, reference));
      CompletableFuture<ProcessRun> cand = CompletableFuture.supplyAsync(() -> session(script, candidate));
      ProcessRun r = ref.join();
      ProcessRun c = cand.join();
      String candName = candidateKind.equals("etcd") ? "etcd-b" : "kvd";
      Path report = EtcdProcess.logDir().resolve("python-etcd-vs-" + candName + ".txt");
      Files.writeString(report, "---- etcd (exit " + r.exitCode() + ")\n" + r.stdout() + "\n---- etcd stderr\n" + r.stderr()
          + "\n---- " + candName + " (exit " + c.exitCode() + ")\n" + c.stdout() + "\n---- " + candName + " stderr\n"
          + c.stderr());
      assertThat(r.exitCode()).as("the python-etcd session failed against real etcd:%n%s%s", r.stdout(), r.stderr())
          .isZero();
      List<String> diffs = ClientText.lineDiff("etcd", r.stdout(), candName, c.stdout());
      assertThat(diffs)
          .as("python-etcd output differs between etcd and %s (exit %d; both outputs in %s):%n%s%n%s stderr:%n%s",
              candName, c.exitCode(), report, String.join("\n", diffs), candName, c.stderr())
          .isEmpty();
      assertThat(c.exitCode()).as("exit code against %s; stderr:%n%s", candName, c.stderr()).isZero();
    } finally {
      Files.deleteIfExists(script);
    }
  }

  private static ProcessRun session(Path script, V2Target target) {
    return ProcessRun.run(List.of(PYTHON.toString(), script.toString(), target.clientUrl().getHost(),
        Integer.toString(target.clientUrl().getPort())), Map.of(), Duration.ofSeconds(60));
  }
}
