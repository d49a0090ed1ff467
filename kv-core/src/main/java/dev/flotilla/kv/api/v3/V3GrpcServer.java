package dev.flotilla.kv.api.v3;

import dev.flotilla.kv.api.GrpcPort;
import dev.flotilla.kv.server.StoreMember;
import dev.flotilla.proto.etcd.etcdserverpb.KVGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.WatchGrpc;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The etcd v3 gRPC services. gRPC runs on its own (shaded) Netty, listening on a loopback
 * port of its own; clients reach it through the client URL, where the first bytes of a
 * connection tell HTTP/2 (gRPC) from HTTP/1.1 and gRPC connections are relayed here (as
 * etcd multiplexes both on one port with cmux).
 *
 * <p>On epoll, gRPC's event loops are ours, and so is its listening channel: a plaintext gRPC
 * connection the client port detected is handed over whole ({@link #adopt}): its socket becomes a
 * channel of this Netty, passed to the listening channel's pipeline exactly as an accepted one
 * is, so gRPC serves it without the relay (bytes unchanged either way).
 */
public final class V3GrpcServer implements AutoCloseable, GrpcPort {
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
  /** Epoll only: gRPC's listening channel (adopted sockets go through its pipeline) and loops. */
  private final EpollServerSocketChannel listener;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;

  private V3GrpcServer(EpollServerSocketChannel listener, EventLoopGroup boss, EventLoopGroup workers, Server server,
      V3Gateway gateway, KvService kv, WatchService watch, LeaseService lease, MaintenanceService maintenance,
      LeaderRelay relay, AuthService auth) {
    this.listener = listener;
    this.boss = boss;
    this.workers = workers;
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
    return start(member, maxRequestBytes, quotaBackendBytes, WatchService.DEFAULT_PROGRESS_INTERVAL, 0);
  }

  /**
   * As above, with the interval of watch progress notifications (etcd 3.5's
   * --experimental-watch-progress-notify-interval) and {@code eventLoops} loops serving the gRPC
   * connections (0: gRPC's default, twice the cores; kvd gives its {@link dev.flotilla.kv.server.LoopShare}).
   * Without epoll the server keeps gRPC's default loops whatever {@code eventLoops} says.
   */
  public static V3GrpcServer start(StoreMember member, long maxRequestBytes, long quotaBackendBytes,
      java.time.Duration watchProgressInterval, int eventLoops) throws IOException {
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
    NettyServerBuilder builder = NettyServerBuilder
        .forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    AtomicReference<EpollServerSocketChannel> listener = new AtomicReference<>();
    EventLoopGroup boss = null;
    EventLoopGroup workers = null;
    if (Epoll.isAvailable()) { // gRPC's own kind of loops, as many as asked (0: twice the cores)
      boss = new EpollEventLoopGroup(1, new DefaultThreadFactory("grpc-default-boss-ELG", true));
      workers = new EpollEventLoopGroup(eventLoops, new DefaultThreadFactory("grpc-default-worker-ELG", true));
      builder.bossEventLoopGroup(boss).workerEventLoopGroup(workers).channelFactory(() -> {
        EpollServerSocketChannel ch = new EpollServerSocketChannel();
        listener.set(ch);
        return ch;
      });
    }
    Server server;
    try {
      server = builder
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
    } catch (IOException | RuntimeException e) {
      shutdown(boss, workers);
      throw e;
    }
    return new V3GrpcServer(listener.get(), boss, workers, server, new V3Gateway(kv, lease, cluster, maintenance, watch, auth,
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

  /** Where the client port relays gRPC connections it does not hand over. */
  @Override
  public InetSocketAddress address() {
    return (InetSocketAddress) server.getListenSockets().get(0);
  }

  @Override
  public boolean adopts() {
    return listener != null;
  }

  /**
   * Serves a connection accepted by the client port: its socket becomes a channel of gRPC's Netty,
   * read in the pipeline gRPC's acceptor sets up; the bytes the client port already read from it
   * go through that pipeline first, before anything more is read from the socket.
   */
  @Override
  public void adopt(int fd, byte[] read) {
    EpollSocketChannel ch = new EpollSocketChannel(fd);
    ch.pipeline().addLast("replay", new Replay(read));
    listener.pipeline().fireChannelRead(ch); // the acceptor adds gRPC's handlers and registers it
  }

  /** Hands on, once gRPC's handlers are active, the bytes read before the hand-over. */
  private static final class Replay extends ChannelInboundHandlerAdapter {
    private final byte[] read;

    Replay(byte[] read) {
      this.read = read;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      ctx.fireChannelActive();
      ctx.pipeline().remove(this);
      ctx.fireChannelRead(Unpooled.wrappedBuffer(read));
      ctx.fireChannelReadComplete();
    }
  }

  private static void shutdown(EventLoopGroup boss, EventLoopGroup workers) {
    if (boss != null) {
      boss.shutdownGracefully(0, 2, TimeUnit.SECONDS);
      workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    }
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
    shutdown(boss, workers);
  }
}
