package dev.flotilla.kv.durability;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A kvd member as a separate JVM process (so that it can be killed with SIGKILL), started
 * from the test classpath on a free port. Owned by the test: {@link #close()} kills it.
 */
final class KvdProcess implements AutoCloseable {
  private static final Pattern READY = Pattern.compile("ready to serve client requests on \\[(http://[^\\],]+)");

  private final Process process;
  private final Path logFile;
  private final URI url;

  private KvdProcess(Process process, Path logFile, URI url) {
    this.process = process;
    this.logFile = logFile;
    this.url = url;
  }

  private static final java.util.concurrent.atomic.AtomicInteger STARTS = new java.util.concurrent.atomic.AtomicInteger();

  /** Starts kvd on {@code dataDir}; its output goes to a new file named after {@code logBase}. */
  static KvdProcess start(Path dataDir, Path logBase, String... extraArgs) throws Exception {
    Path logFile = logBase.resolveSibling(logBase.getFileName() + "." + STARTS.incrementAndGet());
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"),
        // kvd's own logging (the test classpath's logback-test.xml would hide the ready line)
        "-Dlogback.configurationFile=logback.xml",
        "dev.flotilla.kv.Kvd",
        "--data-dir", dataDir.toString(),
        "--listen-client-urls", "http://127.0.0.1:0"));
    cmd.addAll(List.of(extraArgs));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile())).start();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      String log = Files.exists(logFile) ? Files.readString(logFile) : "";
      Matcher m = READY.matcher(log);
      String last = null;
      while (m.find()) {
        last = m.group(1);
      }
      if (last != null) {
        return new KvdProcess(p, logFile, URI.create(last));
      }
      if (!p.isAlive()) {
        throw new IOException("kvd exited with " + p.exitValue() + ":\n" + log);
      }
      Thread.sleep(50);
    }
    p.destroyForcibly().waitFor();
    throw new IOException("kvd did not become ready in 30 s:\n" + Files.readString(logFile));
  }

  URI url() {
    return url;
  }

  long pid() {
    return process.pid();
  }

  /** SIGKILL: no shutdown hook, no flush; what was acknowledged must be on disk already. */
  void kill9() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill9();
    }
  }
}
