package dev.flotilla.kv.compat;

import dev.flotilla.kv.embed.EmbeddedKv;
import dev.flotilla.kv.embed.KvConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * kvd started in this JVM through its embedding API, configured like {@link EtcdProcess}'s etcd:
 * member "default", a fresh data dir, a free client port and a free peer URL. Kept to this one
 * file, looked up by name from {@link Targets}, so that it can be left out of the build.
 */
final class KvdTarget implements V2Target {
  private final String name;
  private final EmbeddedKv kv;
  private final Path dataDir;
  private final URI clientUrl;

  private KvdTarget(String name, EmbeddedKv kv, Path dataDir) {
    this.name = name;
    this.kv = kv;
    this.dataDir = dataDir;
    this.clientUrl = kv.clientUrls().get(0);
  }

  static KvdTarget start(String name) {
    Path dataDir = null;
    try {
      dataDir = Files.createTempDirectory("flotilla-kvd-" + name + "-");
      URI peer = URI.create("http://127.0.0.1:" + EtcdProcess.freePort());
      KvConfig config = KvConfig.builder(dataDir.resolve("member-data"))
          .name("default")
          .listenClientUrl("http://127.0.0.1:0")
          .listenPeerUrls(List.of(peer))
          .initialAdvertisePeerUrls(List.of(peer))
          .initialCluster("default=" + peer)
          .build();
      EmbeddedKv kv = EmbeddedKv.start(config);
      kv.ready().join();
      return new KvdTarget(name, kv, dataDir);
    } catch (IOException e) {
      if (dataDir != null) {
        EtcdProcess.deleteTree(dataDir);
      }
      throw new UncheckedIOException("kvd " + name + " did not start", e);
    }
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public URI clientUrl() {
    return clientUrl;
  }

  @Override
  public void close() {
    try {
      kv.close();
    } finally {
      EtcdProcess.deleteTree(dataDir);
    }
  }
}
