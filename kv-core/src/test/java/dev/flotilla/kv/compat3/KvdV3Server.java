package dev.flotilla.kv.compat3;

import dev.flotilla.kv.embed.EmbeddedKv;
import dev.flotilla.kv.embed.KvConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * kvd in this JVM through its embedding API, configured like {@link EtcdV3Server}'s etcd:
 * member "default", a fresh data dir, a free client port, a peer URL on a free port.
 */
final class KvdV3Server implements V3Server {
  private final String name;
  private final EmbeddedKv kv;
  private final Path dataDir;
  private final URI peerUrl;

  private KvdV3Server(String name, EmbeddedKv kv, Path dataDir, URI peerUrl) {
    this.name = name;
    this.kv = kv;
    this.dataDir = dataDir;
    this.peerUrl = peerUrl;
  }

  static KvdV3Server start(String name) {
    return start(name, 0);
  }

  /** With kvd's --quota-backend-bytes (0: the default). */
  static KvdV3Server start(String name, long quotaBackendBytes) {
    return start(name, b -> b.quotaBackendBytes(quotaBackendBytes));
  }

  /** With settings beyond etcd's defaults, as {@code tweak} makes them. */
  static KvdV3Server start(String name, java.util.function.UnaryOperator<KvConfig.Builder> tweak) {
    Path dataDir = null;
    try {
      dataDir = Files.createTempDirectory("flotilla-compat3-kvd-");
      URI peer = URI.create("http://127.0.0.1:" + EtcdV3Server.freePort());
      EmbeddedKv kv = EmbeddedKv.start(tweak.apply(KvConfig.builder(dataDir.resolve("member-data"))
          .name("default")
          .listenClientUrl("http://127.0.0.1:0")
          .listenPeerUrls(List.of(peer))
          .initialAdvertisePeerUrls(List.of(peer))
          .initialCluster("default=" + peer))
          .build());
      kv.ready().join();
      return new KvdV3Server(name, kv, dataDir, peer);
    } catch (IOException e) {
      EtcdV3Server.deleteTree(dataDir);
      throw new UncheckedIOException("kvd " + name + " did not start", e);
    }
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public URI clientUrl() {
    return kv.clientUrls().get(0);
  }

  @Override
  public URI peerUrl() {
    return peerUrl;
  }

  @Override
  public void close() {
    try {
      kv.close();
    } finally {
      EtcdV3Server.deleteTree(dataDir);
    }
  }

  @Override
  public String toString() {
    return "kvd " + name + " at " + clientUrl();
  }
}
