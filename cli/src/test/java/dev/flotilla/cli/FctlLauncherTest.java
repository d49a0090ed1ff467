package dev.flotilla.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.agent.Fleetd;
import dev.flotilla.cli.FleetFixture.Run;
import dev.flotilla.kv.tls.TestPki;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Every fctl command through the real launcher, {@code bin/fctl}, with the runtime class path the
 * build gives it ({@code cli/target/lib}: only what fctl loads, not the modules fleetd runs on),
 * against a real fleetd over http, its Unix socket and https: each must run as it does in the
 * test JVM (whose class path has everything), with the same output where the output is fixed. A
 * class fctl needs and the lib lacks fails here as a {@code NoClassDefFoundError} on stderr.
 */
class FctlLauncherTest {
  @TempDir
  static Path dir;

  static RealFleetd fleetd;
  /** A copy of the repository's layout: bin/fctl with bin/cds.sh, cli/target/cli.jar (this build's classes), cli/target/lib (its runtime class path). */
  static Path root;

  @BeforeAll
  static void start() throws Exception {
    Path module = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
    root = dir.resolve("root");
    Files.createDirectories(root.resolve("bin"));
    Path lib = Files.createDirectories(root.resolve("cli/target/lib"));
    Path launcher = root.resolve("bin/fctl");
    Files.copy(module.getParent().resolve("bin/fctl"), launcher);
    Files.copy(module.getParent().resolve("bin/cds.sh"), root.resolve("bin/cds.sh")); // the launcher sources it
    Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
    jar(module.resolve("target/classes"), root.resolve("cli/target/cli.jar"));
    // the lib `mvn package` copies, from the same dependency set (written at process-classes):
    // jars as they are, the reactor's modules (class directories before packaging) jarred
    Path classpath = module.resolve("target/runtime-classpath.txt");
    assertThat(classpath).as("the runtime class path, written at process-classes").exists();
    for (String entry : Files.readString(classpath, StandardCharsets.UTF_8).trim().split(java.io.File.pathSeparator)) {
      Path from = Path.of(entry);
      if (Files.isDirectory(from)) {
        jar(from, lib.resolve(from.getParent().getParent().getFileName() + ".jar"));
      } else {
        Files.createSymbolicLink(lib.resolve(from.getFileName()), from);
      }
    }
    // picocli is compiled with fctl (Java 17 class files the launcher's archive can hold), not its jar
    try (Stream<Path> jars = Files.list(lib)) {
      assertThat(jars.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("picocli"));
    }
    byte[] commandLine = Files.readAllBytes(module.resolve("target/classes/picocli/CommandLine.class"));
    assertThat(((commandLine[6] & 0xff) << 8) | (commandLine[7] & 0xff)).as("picocli's class file version").isEqualTo(61);
    assertThat(lib.resolve("slf4j-simple-2.0.17.jar")).as("fctl's log provider").exists();
    fleetd = new RealFleetd(dir);
  }

  @AfterAll
  static void stop() {
    RealFleetd.closeAndAwaitUnitsGone(fleetd);
  }

  @Test
  void everyCommandRunsThroughTheLauncherOverHttpAndTheUnixSocket() throws Exception {
    Path units = Files.createDirectories(dir.resolve("units"));
    Path idle = units.resolve("idle.service");
    Files.writeString(idle, "[Unit]\nDescription=Idles\n\n[Service]\nExecStart=/bin/sh -c 'echo up; sleep 600'\n");
    Path web = units.resolve("web@.service");
    Files.writeString(web, "[Service]\nExecStart=/bin/sh -c 'echo web %i; sleep 600'\n");

    // the first command after a build also writes the AppCDS archive; the later ones use it
    assertLauncherRuns(fleetd.httpUrl, "submit", idle.toString());
    assertThat(root.resolve("cli/target/fctl.jsa")).as("the launcher's class archive").exists();
    // ... with what the other commands load too: start writes JSON (Jackson) and runs other classes
    // of fctl's than submit, yet loads none of them from a jar
    Run start = launcher(Map.of("FLOTILLA_JAVA_OPTS", "-Xlog:class+load"), fleetd.httpUrl, "start", "--no-block",
        units.resolve("web@9.service").toString());
    assertThat(start.exit()).as(start.err()).isZero();
    assertThat(start.out().lines().filter(l -> l.contains("source: file:") || l.contains("source: jar:"))
        .filter(l -> l.contains(" dev.flotilla.") || l.contains(" picocli.") || l.contains(" com.fasterxml.")))
        .as("classes start loaded from jars, not from the archive submit wrote").isEmpty();
    assertLauncherRuns(fleetd.httpUrl, "destroy", "web@9");
    assertLauncherRuns(fleetd.unixUrl, "load", "idle");
    assertLauncherRuns(fleetd.httpUrl, "start", "idle");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    Run journal = launcher(fleetd.unixUrl, "journal", "--lines", "20", "idle");
    while (!journal.out().contains("up\n") && System.nanoTime() - deadline < 0) {
      journal = launcher(fleetd.unixUrl, "journal", "--lines", "20", "idle"); // each run takes a few 100 ms
    }
    assertThat(journal.out()).as("idle.service's journal through the launcher: %s", journal).contains("up\n");
    assertThat(journal.exit()).isZero();
    assertThat(journal.err()).isEmpty();
    assertLauncherRuns(fleetd.unixUrl, "status", "idle");
    assertLauncherRuns(fleetd.httpUrl, "start", "--no-block", units.resolve("web@1.service").toString(),
        units.resolve("web@2.service").toString());
    for (String endpoint : List.of(fleetd.httpUrl, fleetd.unixUrl)) {
      for (List<String> args : List.of(List.of("list-machines", "--full"), List.of("list-unit-files"),
          List.of("cat", "web@1"), List.of("why", "idle", "web@1"), List.of("version"), List.of("help"),
          List.of("help", "start"), List.of("--output", "json", "list-unit-files"))) {
        Run viaLauncher = launcher(endpoint, args.toArray(String[]::new));
        Run inProcess = inProcess(endpoint, args.toArray(String[]::new));
        assertThat(viaLauncher).as("fctl %s through bin/fctl and in process", args).isEqualTo(inProcess);
        assertThat(viaLauncher.exit()).as(viaLauncher.err()).isZero();
      }
    }
    RealFleetd.await(() -> launcher(fleetd.httpUrl, "list-units", "--no-legend").out().lines()
        .filter(l -> l.contains("running")).count() == 3, 20, "three units running, listed through the launcher");
    assertLauncherRuns(fleetd.unixUrl, "stop", "idle", "web@*");
    assertLauncherRuns(fleetd.httpUrl, "unload", "idle", "web@*");
    assertLauncherRuns(fleetd.unixUrl, "destroy", "idle", "web@*");
    assertThat(launcher(fleetd.httpUrl, "list-unit-files", "--no-legend").out()).isEmpty();

    // a mistake is one line and exit 2 through the launcher too (picocli's usage error)
    Run bad = launcher(fleetd.httpUrl, "status", "-x", "idle");
    assertThat(bad).isEqualTo(new Run(2, "", "fctl: Unknown option: '-x'; see 'fctl status --help'\n"));
  }

  @Test
  void httpsWithClientCertificatesThroughTheLauncher() throws Exception {
    TestPki pki = TestPki.create(dir.resolve("pki"));
    TestPki.Issued server = pki.issue("fleetd");
    TestPki.Issued client = pki.issue("operator");
    Fleetd tls = new Fleetd();
    new CommandLine(tls).parseArgs("--embedded-store", "--runtime", "process",
        "--data-dir", dir.resolve("tls-data").toString(), "--listen-client-urls", "http://127.0.0.1:" + RealFleetd.freePort(),
        "--api-listen", "https://127.0.0.1:0", "--machine-id", FctlTlsTest.MACHINE, "--public-ip", "127.0.0.1",
        "--ca-file", pki.caFile().toString(), "--cert-file", server.certFile(), "--key-file", server.keyFile());
    try (Fleetd.Fleet fleet = tls.start()) {
      String api = "https://127.0.0.1:" + ((InetSocketAddress) fleet.api().boundAddresses().get(0)).getPort();
      String[] args = {"--ca-file", pki.caFile().toString(), "--cert-file", client.certFile(),
          "--key-file", client.keyFile(), "list-machines", "--full", "--no-legend"};
      RealFleetd.await(() -> launcher(api, args).out().contains(FctlTlsTest.MACHINE), 20,
          "the machine listed over https through the launcher");
      Run viaLauncher = launcher(api, args);
      assertThat(viaLauncher).isEqualTo(inProcess(api, args));
      Run noCert = launcher(api, "--ca-file", pki.caFile().toString(), "list-machines");
      assertThat(noCert.exit()).isEqualTo(1);
      assertThat(noCert.err()).contains("refused the TLS connection").contains("check --ca-file, --cert-file and --key-file");
      assertThat(noCert.err().lines().count()).as(noCert.err()).isEqualTo(1);
    }
  }

  private static void assertLauncherRuns(String endpoint, String... args) {
    Run r = launcher(endpoint, args);
    assertThat(r.exit()).as("fctl %s: %s", List.of(args), r.err()).isZero();
    // stderr may say what fctl waits for; never a class or exception missing from the lib
    assertThat(r.err()).as("fctl %s", List.of(args)).doesNotContain("Exception", "Error", "SLF4J");
  }

  /** {@code bin/fctl --endpoint ENDPOINT ARGS...} in the copied root, as a user runs it. */
  static Run launcher(String endpoint, String... args) {
    return launcher(Map.of(), endpoint, args);
  }

  /** {@link #launcher(String, String...)} with these variables added to the environment. */
  static Run launcher(Map<String, String> env, String endpoint, String... args) {
    List<String> cmd = new ArrayList<>(List.of(root.resolve("bin/fctl").toString(), "--endpoint", endpoint));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("FLEETCTL_") || k.equals("FLOTILLA_JAVA_OPTS"));
    pb.environment().putAll(env);
    try {
      Path out = Files.createTempFile(dir, "out", ".txt");
      Path err = Files.createTempFile(dir, "err", ".txt");
      Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor();
        throw new AssertionError("bin/fctl " + cmd + " did not finish in 60 s");
      }
      return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new AssertionError("cannot run bin/fctl: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  private static Run inProcess(String endpoint, String... args) {
    List<String> all = new ArrayList<>(List.of("--endpoint", endpoint));
    all.addAll(List.of(args));
    var out = new java.io.ByteArrayOutputStream();
    var err = new java.io.ByteArrayOutputStream();
    int exit;
    try (var o = new java.io.PrintStream(out, true, StandardCharsets.UTF_8);
        var e = new java.io.PrintStream(err, true, StandardCharsets.UTF_8)) {
      exit = Fctl.run(all.toArray(new String[0]), o, e, Map.of());
    }
    return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** Jars {@code classes} (what {@code mvn package} puts in cli.jar) into {@code jar}. */
  private static void jar(Path classes, Path jar) throws IOException {
    try (OutputStream o = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(o);
        Stream<Path> files = Files.walk(classes)) {
      for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
        j.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
        Files.copy(f, j);
        j.closeEntry();
      }
    }
  }
}
