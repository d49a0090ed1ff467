package dev.flotilla.kv.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Network partitions between loopback addresses with iptables rules in a chain of the test's own
 * ({@code FLOTILLA-CHAOS}), jumped to from INPUT: {@link #cut} drops traffic between two addresses
 * both ways, {@link #clear} empties the chain. Needs root and iptables.
 */
final class Firewall {
  static final String CHAIN = "FLOTILLA-CHAOS";

  /** Whether iptables can be used here (root, binary present, kernel support): null if so, else why not. */
  static String unavailable() {
    try {
      Process p = new ProcessBuilder("iptables", "-w", "-L", "INPUT", "-n").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      return p.waitFor() == 0 ? null : "iptables -L failed: " + out.strip();
    } catch (IOException e) {
      return "iptables is not installed (apt-get install iptables): " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  private boolean installed;

  private void install() throws IOException, InterruptedException {
    if (installed) {
      return;
    }
    run(true, "-N", CHAIN); // may exist from an earlier, killed run
    run(false, "-F", CHAIN);
    while (run(true, "-D", "INPUT", "-j", CHAIN)) {
      // remove stale jumps
    }
    run(false, "-I", "INPUT", "-j", CHAIN);
    installed = true;
  }

  void cut(String a, String b) throws IOException, InterruptedException {
    install();
    run(false, "-A", CHAIN, "-s", a, "-d", b, "-j", "DROP");
    run(false, "-A", CHAIN, "-s", b, "-d", a, "-j", "DROP");
  }

  void clear() throws IOException, InterruptedException {
    if (!installed) {
      return;
    }
    run(false, "-F", CHAIN);
  }

  /** Removes the chain entirely (end of the test class). */
  void remove() throws IOException, InterruptedException {
    if (!installed) {
      return;
    }
    run(true, "-F", CHAIN);
    while (run(true, "-D", "INPUT", "-j", CHAIN)) {
      // every jump
    }
    run(true, "-X", CHAIN);
    installed = false;
  }

  private static boolean run(boolean mayFail, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("iptables", "-w"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int rc = p.waitFor();
    if (rc != 0 && !mayFail) {
      throw new IOException(String.join(" ", cmd) + " failed (" + rc + "): " + out.strip());
    }
    return rc == 0;
  }
}
