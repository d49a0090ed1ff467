package dev.flotilla.kv.client;

import dev.flotilla.kv.compat.EtcdProcess;
import dev.flotilla.kv.embed.EmbeddedKv;
import dev.flotilla.kv.embed.KvConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The stores a {@link StoreClient} test runs against, started on first use and owned by the
 * test class: kvd in this JVM through {@link InProcessStoreClient}, kvd through jetcd over its
 * client port, and a real etcd 3.4 through jetcd (which skips with a message when {@code etcd}
 * is not installed, or fails under FLOTILLA_REQUIRE_TOOLS=1). {@link #close()} ends them all; as a
 * JUnit extension in a static field ({@code @RegisterExtension static final StoreTargets targets =
 * new StoreTargets();}) they end after the class's last test.
 */
public final class StoreTargets implements AutoCloseable, AfterAllCallback {

  public enum Kind { IN_PROCESS_KVD, KVD_OVER_JETCD, ETCD_OVER_JETCD }

  private final List<AutoCloseable> owned = new ArrayList<>();
  private final List<Path> dirs = new ArrayList<>();
  private EmbeddedKv inProcess;
  private EmbeddedKv remoteKvd;
  private EtcdProcess etcd;

  /** A new client of the {@code kind} store (starting the store the first time); closed with the targets. */
  public synchronized StoreClient client(Kind kind) {
    StoreClient c = switch (kind) {
      case IN_PROCESS_KVD -> {
        if (inProcess == null) {
          inProcess = startKvd("in-process");
        }
        yield inProcess.storeClient();
      }
      case KVD_OVER_JETCD -> {
        if (remoteKvd == null) {
          remoteKvd = startKvd("remote");
        }
        yield JetcdStoreClient.connect(List.of(remoteKvd.clientUrls().get(0)), Duration.ofSeconds(10));
      }
      case ETCD_OVER_JETCD -> {
        if (etcd == null) {
          etcd = EtcdProcess.start("store-client", false, logDir());
          owned.add(etcd);
        }
        yield JetcdStoreClient.connect(List.of(etcd.clientUrl()), Duration.ofSeconds(10));
      }
    };
    owned.add(0, c); // clients close before their stores
    return c;
  }

  private EmbeddedKv startKvd(String name) {
    try {
      Path dir = Files.createTempDirectory("flotilla-storeclient-" + name + "-");
      dirs.add(dir);
      URI peer = URI.create("http://127.0.0.1:" + EtcdProcess.freePort());
      EmbeddedKv kv = EmbeddedKv.start(KvConfig.builder(dir.resolve("data"))
          .name("default")
          .listenClientUrl("http://127.0.0.1:0")
          .listenPeerUrls(List.of(peer))
          .initialAdvertisePeerUrls(List.of(peer))
          .initialCluster("default=" + peer)
          .build());
      kv.ready().join();
      owned.add(kv);
      return kv;
    } catch (IOException e) {
      throw new UncheckedIOException("kvd " + name + " did not start", e);
    }
  }

  private static Path logDir() {
    Path dir = Path.of(System.getProperty("basedir", "."), "target", "store-client-logs");
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return dir;
  }

  @Override
  public void afterAll(ExtensionContext context) {
    close();
  }

  @Override
  public synchronized void close() {
    for (AutoCloseable c : owned) {
      try {
        c.close();
      } catch (Exception e) {
        // keep closing the rest: nothing may outlive the test
      }
    }
    owned.clear();
    dirs.forEach(EtcdProcess::deleteTree);
  }
}
