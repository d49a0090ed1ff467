package dev.flotilla.cli;

import dev.flotilla.cli.client.FleetClient;
import dev.flotilla.cli.output.JsonOutput;
import dev.flotilla.cli.units.LocalUnitFile;
import dev.flotilla.scheduler.unit.UnitFile;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * The rest of what the launcher's class archive should hold. {@code bin/fctl} writes the archive
 * at the exit of the first command after a build ({@code -XX:ArchiveClassesAtExit}), and it holds
 * the classes that command loaded: a class another command needs is then read from its jar, parsed
 * and verified at each of that command's starts (after {@code fctl submit} wrote it, {@code fctl
 * start} of 300 units loaded 71 classes so: Jackson's for writing JSON, fctl's own). In that one
 * JVM ({@code -Dfctl.archive.warmup=true}), after the command has printed everything and before it
 * exits with its status, this loads every class of cli.jar (fctl's and picocli's), builds every
 * command's model and writes and reads each JSON shape of the API once; no request, no output.
 */
final class ArchiveWarmUp {
  static final String PROPERTY = "fctl.archive.warmup";

  private ArchiveWarmUp() {}

  static boolean wanted() {
    return Boolean.getBoolean(PROPERTY);
  }

  /** Never fails: what it cannot load stays out of the archive, and the command's status stands. */
  static void run() {
    try {
      loadJarClasses();
      PrintStream nowhere = new PrintStream(OutputStream.nullOutputStream());
      PrintWriter sink = new PrintWriter(nowhere);
      try (Fctl root = new Fctl(sink, sink, nowhere, Map.of())) {
        Fctl.commandLine(root, null).parseArgs("--endpoint", "http://127.0.0.1:1", "start", "--no-block", "a.service");
      }
      FleetClient.exerciseJson();
      // the unit model's checks of a unit file, as submit and start make them
      UnitFile file = UnitFile.parse("[Unit]\nDescription=%i\n[Service]\nExecStart=/bin/true\n"
          + "[X-Fleet]\nMachineMetadata=k=v\nConflicts=a@*.service\n");
      LocalUnitFile.validate("a@1.service", file, null, "warm-up");
      file.hash();
      JsonOutput.print(sink, Map.of("k", "v"));
    } catch (IOException | RuntimeException | LinkageError | URISyntaxException e) {
      // the archive holds less; later commands load the rest from their jars, as without it
    }
  }

  /** Loads (without initialising) each class of the jar or class directory fctl runs from. */
  private static void loadJarClasses() throws IOException, URISyntaxException {
    Path from = Path.of(Fctl.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    if (!Files.isRegularFile(from)) {
      return; // a class directory (tests): there is no archive
    }
    ClassLoader loader = Fctl.class.getClassLoader();
    try (JarFile jar = new JarFile(from.toFile())) {
      for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
        String name = e.nextElement().getName();
        if (name.endsWith(".class") && !name.contains("-")) { // not module-info or package-info
          try {
            Class.forName(name.substring(0, name.length() - ".class".length()).replace('/', '.'), false, loader);
          } catch (ClassNotFoundException | LinkageError skipped) {
            // a class that cannot load here (an optional dependency of picocli's) is not needed
          }
        }
      }
    }
  }
}
