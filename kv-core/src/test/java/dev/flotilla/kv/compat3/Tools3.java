package dev.flotilla.kv.compat3;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The outside tools the v3 compat tests need. A missing tool skips the test with a message
 * saying what to install, except when {@code FLOTILLA_REQUIRE_TOOLS=1} (CI): then it fails.
 */
final class Tools3 {
  static final String SYSTEM_PYTHON = "/usr/bin/python3";

  private Tools3() {
  }

  static boolean required() {
    return "1".equals(System.getenv("FLOTILLA_REQUIRE_TOOLS"));
  }

  /** Skips (or, in CI, fails) unless {@code ok}. */
  static void need(boolean ok, String missing) {
    if (ok) {
      return;
    }
    if (required()) {
      throw new AssertionError(missing + " (FLOTILLA_REQUIRE_TOOLS=1: tools must be installed, not skipped)");
    }
    Assumptions.abort(missing);
  }

  static Path etcd() {
    Path p = onPath("etcd");
    need(p != null, "no `etcd` on PATH: install Debian's etcd-server (etcd 3.4.23) to run the v3 compat tests");
    return p;
  }

  static Path etcdctl() {
    Path p = onPath("etcdctl");
    need(p != null, "no `etcdctl` on PATH: install Debian's etcd-client (etcdctl 3.4.23)");
    return p;
  }

  /** Debian's python3 with {@code module} importable (Debian's python3-etcd3 / python3-etcd3gw). */
  static Path python(String module, String debianPackage) {
    Path py = Path.of(SYSTEM_PYTHON);
    need(Files.isExecutable(py), "no " + SYSTEM_PYTHON + ": install Debian's python3 and " + debianPackage);
    boolean ok;
    try {
      Process p = new ProcessBuilder(py.toString(), "-c", "import " + module)
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      ok = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
      p.destroyForcibly();
    } catch (java.io.IOException e) {
      ok = false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      ok = false;
    }
    need(ok, SYSTEM_PYTHON + " cannot import " + module + ": apt-get install -y " + debianPackage);
    return py;
  }

  static Path onPath(String name) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (!dir.isEmpty()) {
        Path p = Path.of(dir, name);
        if (Files.isRegularFile(p) && Files.isExecutable(p)) {
          return p;
        }
      }
    }
    for (String dir : List.of("/usr/bin", "/usr/local/bin")) {
      Path p = Path.of(dir, name);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }
}
