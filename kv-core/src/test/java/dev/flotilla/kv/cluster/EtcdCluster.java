package dev.flotilla.kv.cluster;

import dev.flotilla.kv.compat.EtcdProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real etcd 3.4 cluster of {@code size} processes on 127.0.0.1 (members m1..mN), the oracle for
 * kvd's cluster behaviour. It owns its processes: {@link #close} kills every one.
 */
final class EtcdCluster implements AutoCloseable {
  final List<String> clientUrls = new ArrayList<>();
  final List<String> peerUrls = new ArrayList<>();
  private final List<Process> processes = new ArrayList<>();
  private final Path root;

  EtcdCluster(Path etcd, Path root, int size) throws IOException {
    this.root = root;
    List<String> initial = new ArrayList<>();
    for (int i = 1; i <= size; i++) {
      clientUrls.add("http://127.0.0.1:" + EtcdProcess.freePort());
      peerUrls.add("http://127.0.0.1:" + EtcdProcess.freePort());
      initial.add("m" + i + "=" + peerUrls.get(i - 1));
    }
    try {
      for (int i = 1; i <= size; i++) {
        List<String> cmd = List.of(etcd.toString(), "--name", "m" + i,
            "--data-dir", root.resolve("m" + i).toString(),
            "--listen-client-urls", clientUrls.get(i - 1), "--advertise-client-urls", clientUrls.get(i - 1),
            "--listen-peer-urls", peerUrls.get(i - 1), "--initial-advertise-peer-urls", peerUrls.get(i - 1),
            "--initial-cluster", String.join(",", initial), "--initial-cluster-token", "v3-oracle",
            "--heartbeat-interval", "50", "--election-timeout", "500");
        processes.add(new ProcessBuilder(cmd).redirectErrorStream(true)
            .redirectOutput(root.resolve("m" + i + ".log").toFile()).start());
      }
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  String endpoints() {
    return String.join(",", clientUrls);
  }

  String logs() {
    StringBuilder b = new StringBuilder();
    for (int i = 1; i <= processes.size(); i++) {
      try {
        List<String> lines = Files.readAllLines(root.resolve("m" + i + ".log"));
        b.append("---- etcd m").append(i).append('\n');
        lines.subList(Math.max(0, lines.size() - 20), lines.size()).forEach(l -> b.append(l).append('\n'));
      } catch (IOException e) {
        b.append(e).append('\n');
      }
    }
    return b.toString();
  }

  @Override
  public void close() {
    for (Process p : processes) {
      p.destroyForcibly();
    }
    for (Process p : processes) {
      try {
        p.waitFor(Duration.ofSeconds(10).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
