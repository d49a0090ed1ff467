package dev.flotilla.kv.embed;

import dev.flotilla.kv.server.LoopShare;
import dev.flotilla.kv.api.v2.V2HttpServer;
import dev.flotilla.kv.api.v3.V3GrpcServer;
import dev.flotilla.kv.client.InProcessStoreClient;
import dev.flotilla.kv.client.StoreClient;
import dev.flotilla.kv.server.StoreMember;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A store member running inside this JVM, as etcd's {@code embed} package runs one inside a Go
 * program. {@code bin/kvd}, {@code fleetd --embedded-store} and the tests all start the store
 * this way.
 *
 * <pre>{@code
 * KvConfig cfg = KvConfig.builder(Path.of("/var/lib/flotilla"))
 *     .name("node1").listenClientUrl("http://127.0.0.1:2379").build();
 * try (EmbeddedKv kv = EmbeddedKv.start(cfg)) {
 *   kv.ready().join();
 *   kv.client().set("/config/greeting", "hello");
 *   System.out.println(kv.client().get("/config/greeting").node().value());
 * }
 * }</pre>
 */
public final class EmbeddedKv implements AutoCloseable {
  private final KvConfig config;
  private final StoreMember member;
  private final V2HttpServer http;
  private final List<URI> clientUrls;
  private final KvClient client;
  private final CompletableFuture<Void> ready = new CompletableFuture<>();

  private final V3GrpcServer grpc;
  private final List<StoreClient> storeClients = new CopyOnWriteArrayList<>();

  private EmbeddedKv(KvConfig config, StoreMember member, V2HttpServer http, V3GrpcServer grpc,
      List<URI> clientUrls) {
    this.grpc = grpc;
    this.config = config;
    this.member = member;
    this.http = http;
    this.clientUrls = clientUrls;
    this.client = new KvClient(member);
    ready.complete(null); // one member: serving as soon as the log is replayed
  }

  /**
   * Opens (or creates) the member's data dir, replays its log, binds its client URLs and
   * returns once it serves. Fails with a message naming the setting when the config is wrong.
   */
  public static EmbeddedKv start(KvConfig config) throws IOException {
    StoreMember member = StoreMember.open(config);
    V2HttpServer http;
    V3GrpcServer grpc = null;
    try {
      LoopShare loops = member.loops();
      grpc = V3GrpcServer.start(member, config.maxRequestBytes(), config.quotaBackendBytes(),
          java.time.Duration.ofMillis(config.watchProgressNotifyIntervalMs()), loops.count());
      grpc.bcryptCost(config.bcryptCost());
      member.machine().auth().tokens().ttl(java.time.Duration.ofSeconds(config.authTokenTtlSeconds()));
      http = V2HttpServer.start(config.listenClientUrls(), member, config.maxRequestBytes(), grpc,
          grpc.gateway(), loops);
    } catch (IOException | RuntimeException e) {
      if (grpc != null) {
        grpc.close();
      }
      member.close();
      throw e;
    }
    List<URI> bound = new ArrayList<>();
    List<InetSocketAddress> addrs = http.boundAddresses();
    for (int i = 0; i < addrs.size(); i++) {
      URI listen = config.listenClientUrls().get(i);
      bound.add(URI.create(listen.getScheme() + "://" + listen.getHost() + ":" + addrs.get(i).getPort()));
    }
    // a listen port of 0 became a real port: advertise that unless told what to advertise
    member.advertiseClientUrls(config.advertiseClientUrls().isEmpty() ? bound : config.advertiseClientUrls());
    return new EmbeddedKv(config, member, http, grpc, bound);
  }

  /** The client URLs actually served (ports resolved). */
  public List<URI> clientUrls() {
    return clientUrls;
  }

  /** Completes when the member serves reads and writes. */
  public CompletableFuture<Void> ready() {
    return ready;
  }

  /** An in-process client of this member (no sockets). */
  public KvClient client() {
    return client;
  }

  /**
   * A new in-process v3 client of this member ({@link InProcessStoreClient}: the gRPC services'
   * code path without sockets). The caller closes it; {@link #close()} closes any still open.
   */
  public StoreClient storeClient() {
    StoreClient c = new InProcessStoreClient(grpc.kvService(), grpc.watchService(), grpc.leaseService(),
        Duration.ofSeconds(10));
    storeClients.add(c);
    return c;
  }

  public KvConfig config() {
    return config;
  }

  /** Completes when this member has been removed from its cluster: close it then (kvd exits). */
  public CompletableFuture<Void> removedFromCluster() {
    return member.removedFromCluster();
  }

  /** Stops serving, then closes the log and the store; acknowledged writes are on disk. */
  @Override
  public void close() {
    storeClients.forEach(StoreClient::close);
    http.close();
    grpc.close();
    member.close();
  }
}
