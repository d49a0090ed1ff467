package dev.flotilla.kv.compat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** Real {@code ETCDCTL_API=3 etcdctl} run as a process, with its answer (client retry log lines dropped). */
public final class Etcdctl {
  /** Exit code, stdout, stderr without clientv3's JSON log lines. */
  public record Result(int exit, String out, String err) {
    public String shown() {
      return "exit " + exit + "\n" + out + (err.isEmpty() ? "" : "stderr: " + err);
    }
  }

  private final Path binary;

  private Etcdctl(Path binary) {
    this.binary = binary;
  }

  /** etcdctl from PATH; skips the test when it is missing (fails under FLOTILLA_REQUIRE_TOOLS=1). */
  public static Etcdctl find() {
    Path p = onPath("etcdctl");
    Tools.require(p != null, "no `etcdctl` on PATH: install Debian's etcd-client (etcdctl 3.4.23)");
    return new Etcdctl(p);
  }

  /** etcd from PATH, as {@link #find} does for etcdctl. */
  public static Path etcd() {
    Path p = onPath("etcd");
    Tools.require(p != null, "no `etcd` on PATH: install Debian's etcd-server (etcd 3.4.23)");
    return p;
  }

  public Result run(String endpoints, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--endpoints", endpoints,
        "--dial-timeout", "3s", "--command-timeout", "20s"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("ETCDCTL_API", "3");
    Path err = Files.createTempFile("etcdctl-", ".err");
    pb.redirectError(err.toFile());
    Process p = pb.start();
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("etcdctl " + String.join(" ", args) + " did not finish in 60 s");
    }
    StringBuilder e = new StringBuilder();
    for (String line : Files.readAllLines(err)) {
      if (!line.startsWith("{\"level\"")) {
        e.append(line).append('\n');
      }
    }
    Files.deleteIfExists(err);
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), e.toString());
  }

  /** Runs until {@code done} holds for the answer or {@code timeout} passes; returns the last answer. */
  public Result runUntil(Duration timeout, Predicate<Result> done, String endpoints, String... args)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Result r = run(endpoints, args);
    while (!done.test(r) && System.nanoTime() < deadline) {
      Thread.sleep(200);
      r = run(endpoints, args);
    }
    return r;
  }

  private static Path onPath(String name) {
    for (String dir : (System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/bin")
        .split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
        return Path.of(dir, name);
      }
    }
    return null;
  }
}
