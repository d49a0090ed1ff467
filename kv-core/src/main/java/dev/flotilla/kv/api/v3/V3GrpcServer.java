package dev.flotilla.kv.api.v3;

import dev.flotilla.kv.server.StoreMember;
import dev.flotilla.proto.etcd.etcdserverpb.KVGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.WatchGrpc;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The etcd v3 gRPC services. gRPC runs on its own (shaded) Netty, listening on a loopback
 * port of its own; clients reach it through the client URL, where the first bytes of a
 * connection tell HTTP/2 (gRPC) from HTTP/1.1 and gRPC connections are relayed here (as
 * etcd multiplexes both on one port with cmux).
 */
public final class V3GrpcServer implements AutoCloseable {
  /** etcd allows this much gRPC framing beyond --max-request-bytes. */
  static final int GRPC_OVERHEAD_BYTES = 512 * 1024;

  private final Server server;
  private final V3Gateway gateway;
  private final KvService kv;
  private final WatchService watch;
  private final LeaseService lease;
  private final MaintenanceService maintenance;
  private final LeaderRelay relay;
  private final AuthService auth;

  private V3GrpcServer(Server server, V3Gateway gateway, KvService kv, WatchService watch, LeaseService lease,
      MaintenanceService maintenance, LeaderRelay relay, AuthService auth) {
    this.auth = auth;
    this.maintenance = maintenance;
    this.relay = relay;
    this.server = server;
    this.gateway = gateway;
    this.kv = kv;
    this.watch = watch;
    this.lease = lease;
  }

  /**
   * Starts the services. {@code quotaBackendBytes} is etcd's --quota-backend-bytes: a v3 write that
   * would take the store past it is refused and raises the NOSPACE alarm.
   */
  public static V3GrpcServer start(StoreMember member, long maxRequestBytes, long quotaBackendBytes)
      throws IOException {
    return start(member, maxRequestBytes, quotaBackendBytes, WatchService.DEFAULT_PROGRESS_INTERVAL);
  }

  /** As above, with the interval of watch progress notifications (etcd 3.5's --experimental-watch-progress-notify-interval). */
  public static V3GrpcServer start(StoreMember member, long maxRequestBytes, long quotaBackendBytes,
      java.time.Duration watchProgressInterval) throws IOException {
    KvService kv = new KvService(member, maxRequestBytes);
    WatchService watch = new WatchService(member, kv, watchProgressInterval);
    LeaseService lease = new LeaseService(member, kv);
    LeaderRelay relay = new LeaderRelay();
    ClusterService cluster = new ClusterService(member, kv, relay);
    MaintenanceService maintenance = new MaintenanceService(member, kv);
    kv.quota(quotaBackendBytes, maintenance::raiseNoSpace);
    LearnerGuard guard = new LearnerGuard(member);
    AuthService auth = new AuthService(member, kv);
    AuthInterceptor authCheck = new AuthInterceptor(member.machine().auth());
    Server server = NettyServerBuilder
        .forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .directExecutor() // handlers never block: reads are snapshots, writes complete later
        .maxInboundMessageSize((int) Math.min(Integer.MAX_VALUE, maxRequestBytes + GRPC_OVERHEAD_BYTES))
        .addService(io.grpc.ServerInterceptors.intercept(kv, guard, authCheck))
        .addService(io.grpc.ServerInterceptors.intercept(watch, guard, authCheck))
        .addService(io.grpc.ServerInterceptors.intercept(lease, guard, authCheck))
        .addService(io.grpc.ServerInterceptors.intercept(cluster, guard, authCheck))
        .addService(io.grpc.ServerInterceptors.intercept(maintenance, guard, authCheck))
        .addService(io.grpc.ServerInterceptors.intercept(auth, guard, authCheck))
        .build()
        .start();
    return new V3GrpcServer(server, new V3Gateway(kv, lease, cluster, maintenance, watch, auth,
        member.machine().auth()), kv, watch, lease, maintenance, relay, auth);
  }

  /** The JSON gateway over the same services, for the HTTP/1.1 side of the client port. */
  public V3Gateway gateway() {
    return gateway;
  }

  /**
   * The KV, Watch and Lease services gRPC calls, for the in-process {@code StoreClient} to take
   * the same path as a network request.
   */
  public KVGrpc.AsyncService kvService() {
    return kv;
  }

  public WatchGrpc.AsyncService watchService() {
    return watch;
  }

  public LeaseGrpc.AsyncService leaseService() {
    return lease;
  }

  /** etcd's --bcrypt-cost (4..31; default 10) for passwords added or changed from now on. */
  public void bcryptCost(int cost) {
    auth.bcryptCost(cost);
  }

  /** Where the client port relays gRPC connections. */
  public InetSocketAddress address() {
    return (InetSocketAddress) server.getListenSockets().get(0);
  }

  @Override
  public void close() {
    server.shutdownNow();
    relay.close();
    maintenance.close();
    auth.close();
    watch.close();
    try {
      server.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
