package dev.flotilla.raft.transport;

import dev.flotilla.proto.raft.RaftPeerGrpc;
import dev.flotilla.raft.core.Message;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Transport} over gRPC (grpc-netty-shaded; plaintext, or TLS with the credentials given to
 * {@link #start(long, InetSocketAddress, Map, Handler, GrpcTransportOptions, ServerCredentials, ChannelCredentials)}): a {@code RaftPeer} server for what
 * peers send here, and per peer one channel with one long-lived {@code Stream} call carrying batches
 * of messages from this member to it (the peer opens its own stream towards us: one stream per
 * direction), plus {@code SendSnapshot} calls that carry snapshots in chunks. See {@link PeerSender}
 * for batching, back-pressure and reconnection, {@link PeerService} for what is refused.
 */
public final class GrpcTransport implements Transport {

  private static final Logger LOG = LoggerFactory.getLogger(GrpcTransport.class);

  private final long self;
  private final Server server;
  private final Handler handler;
  private final GrpcTransportOptions options;
  private final PeerService service;
  private final TransportStats.Counters counters = new TransportStats.Counters();
  private final Map<Long, PeerSender> peers = new ConcurrentHashMap<>();
  private final Map<Long, ManagedChannel> channels = new ConcurrentHashMap<>();
  private volatile boolean closed;
  /** Runs incoming snapshot calls (everything else runs on the event loops). */
  private final ExecutorService snapshotReceivers;

  /** Where outgoing peer connections come from: the listen IP when it is a specific one, else the OS's pick. */
  private final java.net.InetAddress sourceAddress;

  private final ChannelCredentials channelCredentials;
  /** The transport's own event loops ({@link GrpcTransportOptions#eventLoops()}); null: gRPC's shared group. */
  private final EventLoopGroup loops;

  private GrpcTransport(long self, InetSocketAddress listen, Handler handler, GrpcTransportOptions options,
      ServerCredentials serverCredentials, ChannelCredentials channelCredentials) {
    this.channelCredentials = channelCredentials;
    this.sourceAddress = listen.getAddress() == null || listen.getAddress().isAnyLocalAddress()
        ? null : listen.getAddress();
    this.self = self;
    this.handler = handler;
    this.options = options;
    this.snapshotReceivers = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "raft-snapshot-in-" + self);
      t.setDaemon(true);
      return t;
    });
    this.service = new PeerService(self, peers::containsKey, handler, options, counters);
    this.loops = options.eventLoops() == 0 ? null : Epoll.isAvailable()
        ? new EpollEventLoopGroup(options.eventLoops(), new DefaultThreadFactory("raft-peer-loop-" + self, true))
        : new NioEventLoopGroup(options.eventLoops(), new DefaultThreadFactory("raft-peer-loop-" + self, true));
    NettyServerBuilder builder = NettyServerBuilder.forAddress(listen, serverCredentials);
    if (loops != null) { // one group accepts and serves: a member has a handful of peer connections
      builder.bossEventLoopGroup(loops).workerEventLoopGroup(loops)
          .channelType(loops instanceof EpollEventLoopGroup ? EpollServerSocketChannel.class : NioServerSocketChannel.class);
    }
    this.server = builder
        .addService(ServerInterceptors.intercept(service, service.identity()))
        .maxInboundMessageSize(options.maxInboundBytes())
        .permitKeepAliveTime(5, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        // the message stream decodes and hands messages to the handler, which must not block
        // (Handler's contract): on the event loop that read them, with no hop through an executor
        // thread; a snapshot (reassembled and checked whole at its end) keeps to its own threads
        .directExecutor()
        .callExecutor(new ServerCallExecutorSupplier() {
          @Override
          public <Q, R> java.util.concurrent.Executor getExecutor(ServerCall<Q, R> call, io.grpc.Metadata headers) {
            return call.getMethodDescriptor().getFullMethodName().equals(RaftPeerGrpc.getSendSnapshotMethod()
                .getFullMethodName()) ? snapshotReceivers : null;
          }
        })
        .withOption(ChannelOption.SO_REUSEADDR, true)
        .build();
  }

  /**
   * Starts a transport for member {@code self}, listening on {@code listen} (port 0 picks a free
   * one, see {@link #port()}), with {@code peers} (member id to {@code host:port}) as its peer set.
   */
  public static GrpcTransport start(long self, InetSocketAddress listen, Map<Long, String> peers, Handler handler,
      GrpcTransportOptions options) throws IOException {
    return start(self, listen, peers, handler, options, InsecureServerCredentials.create(),
        InsecureChannelCredentials.create());
  }

  /**
   * Like {@link #start(long, InetSocketAddress, Map, Handler, GrpcTransportOptions)}, serving with
   * {@code serverCredentials} and reaching peers with {@code channelCredentials} (TLS: etcd's
   * --peer-cert-file and friends; a peer whose handshake fails never gets to send a message).
   */
  public static GrpcTransport start(long self, InetSocketAddress listen, Map<Long, String> peers, Handler handler,
      GrpcTransportOptions options, ServerCredentials serverCredentials, ChannelCredentials channelCredentials)
      throws IOException {
    Objects.requireNonNull(handler, "handler");
    Objects.requireNonNull(options, "options");
    GrpcTransport t = new GrpcTransport(self, listen, handler, options, Objects.requireNonNull(serverCredentials),
        Objects.requireNonNull(channelCredentials));
    try {
      t.server.start();
    } catch (IOException e) {
      t.snapshotReceivers.shutdown();
      if (t.loops != null) {
        t.loops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      }
      throw new IOException("member " + self + ": cannot listen for peers on " + listen + ": " + e.getMessage(), e);
    }
    peers.forEach(t::addPeer);
    return t;
  }

  /**
   * Tells the transport which members were removed from the cluster for good: their calls are
   * refused with a status that makes their transport report {@link Handler#removedFromCluster}.
   */
  public void removedMembers(java.util.function.LongPredicate removed) {
    service.removed = removed;
  }

  /** The port the peer server listens on. */
  public int port() {
    return server.getPort();
  }

  public long self() {
    return self;
  }

  /**
   * Hands each peer its messages together, in order, so that one call's messages to a peer (a
   * Ready's) can go as one frame, written on the calling thread when the peer's stream is idle.
   */
  @Override
  public void send(List<Message> messages) {
    Map<Long, List<Message>> byPeer = new java.util.LinkedHashMap<>();
    for (Message m : messages) {
      byPeer.computeIfAbsent(m.to(), k -> new java.util.ArrayList<>()).add(m);
    }
    byPeer.forEach(this::sendTo);
  }

  private void sendTo(long to, List<Message> messages) {
    PeerSender peer = peers.get(to);
    if (peer != null) {
      peer.send(messages);
      return;
    }
    for (Message m : messages) {
      counters.messagesDropped.incrementAndGet();
      LOG.debug("member {}: dropping {} for member {}, not a peer", self, m.getClass().getSimpleName(), m.to());
      if (m instanceof Message.InstallSnapshot) {
        handler.snapshotStatus(m.to(), false);
      }
    }
  }

  @Override
  public synchronized void addPeer(long id, String address) {
    if (closed) {
      throw new IllegalStateException("transport of member " + self + " is closed");
    }
    if (id == self) {
      throw new IllegalArgumentException("member " + self + " cannot be its own peer");
    }
    PeerSender old = peers.get(id);
    if (old != null && old.address.equals(address)) {
      return;
    }
    if (old != null) {
      dropPeer(id);
    }
    NettyChannelBuilder builder = NettyChannelBuilder.forTarget(address, channelCredentials);
    if (loops != null) {
      builder.eventLoopGroup(loops)
          .channelType(loops instanceof EpollEventLoopGroup ? EpollSocketChannel.class : NioSocketChannel.class);
    }
    if (sourceAddress != null) {
      // connect from our own peer IP, so that a member is one address on the network both ways
      // (what lets tests cut links between 127.0.0.x members with firewall rules)
      builder.localSocketPicker(new NettyChannelBuilder.LocalSocketPicker() {
        @Override
        public java.net.SocketAddress createSocketAddress(java.net.SocketAddress remote,
            io.grpc.Attributes attrs) {
          return new InetSocketAddress(sourceAddress, 0);
        }
      });
    }
    // no gRPC retries: PeerSender reopens its stream itself, and with them every message went
    // through RetriableStream (buffered for a replay until the call committed) and its wrappers
    ManagedChannel channel = builder
        .disableRetry()
        .maxInboundMessageSize(options.maxInboundBytes())
        .keepAliveTime(10, TimeUnit.SECONDS)
        .keepAliveTimeout(5, TimeUnit.SECONDS)
        .build();
    PeerSender sender = new PeerSender(self, id, address, channel, options, handler, counters);
    channels.put(id, channel);
    peers.put(id, sender);
    sender.start();
  }

  @Override
  public synchronized void removePeer(long id) {
    if (dropPeer(id)) {
      service.disconnect(id);
    }
  }

  private boolean dropPeer(long id) {
    PeerSender sender = peers.remove(id);
    ManagedChannel channel = channels.remove(id);
    if (sender != null) {
      sender.close();
    }
    if (channel != null) {
      channel.shutdownNow();
    }
    return sender != null;
  }

  @Override
  public Set<Long> peers() {
    return new TreeSet<>(peers.keySet());
  }

  public TransportStats stats() {
    return counters.snapshot();
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    // refuse new calls and ignore what still arrives (quietly: these are not refusals of a peer),
    // end our own streams cleanly, then stop the server
    service.closing();
    server.shutdown();
    List<ManagedChannel> closing = List.copyOf(channels.values());
    for (long id : peers()) {
      dropPeer(id);
    }
    try {
      if (!server.awaitTermination(1, TimeUnit.SECONDS)) {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
    snapshotReceivers.shutdownNow();
    if (loops != null) {
      for (ManagedChannel channel : closing) {
        try {
          channel.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      loops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }
}
