package dev.flotilla.kv.compat3;

import dev.flotilla.kv.compat.EtcdProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A real etcd 3.4 (Debian {@code etcd-server}) for the v3 suite: the v2 suite's
 * {@link EtcdProcess}, without the v2 API, its log in {@code target/compat3-logs/}.
 */
final class EtcdV3Server implements V3Server {
  private final EtcdProcess etcd;

  private EtcdV3Server(EtcdProcess etcd) {
    this.etcd = etcd;
  }

  static EtcdV3Server start(String name) {
    return new EtcdV3Server(EtcdProcess.start(name, false, logDir()));
  }

  /** With etcd's --quota-backend-bytes. */
  static EtcdV3Server start(String name, long quotaBackendBytes) {
    return start(name, java.util.List.of("--quota-backend-bytes", Long.toString(quotaBackendBytes)));
  }

  /** With more etcd flags. */
  static EtcdV3Server start(String name, java.util.List<String> extraArgs) {
    return new EtcdV3Server(EtcdProcess.start(name, false, logDir(), extraArgs));
  }

  static int freePort() throws IOException {
    return EtcdProcess.freePort();
  }

  static Path logDir() {
    Path dir = Path.of(System.getProperty("basedir", "."), "target", "compat3-logs");
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return dir;
  }

  static void deleteTree(Path dir) {
    EtcdProcess.deleteTree(dir);
  }

  @Override
  public String name() {
    return etcd.name();
  }

  @Override
  public URI clientUrl() {
    return etcd.clientUrl();
  }

  @Override
  public URI peerUrl() {
    return etcd.peerUrl();
  }

  @Override
  public void close() {
    etcd.close();
  }

  @Override
  public String toString() {
    return etcd.toString();
  }
}
