package dev.flotilla.scheduler.api;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@link FleetApi} over HTTP/1.1 (Netty) on {@code http://host:port} and on
 * {@code unix:///path} (a Unix domain socket, through Netty's native epoll: fleetd's default is
 * {@code unix:///var/run/fleet.sock}). Requests are answered on a small executor group of their
 * own, not on the event loops: the registry behind the API may block on the store.
 */
public final class FleetApiServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FleetApiServer.class);
  /** Unit files are at most a few MiB of options; refuse bodies beyond this. */
  static final int MAX_BODY_BYTES = 16 << 20;
  /**
   * Requests answered at once (each connection is served by one of these threads): enough that
   * fctl's 64 concurrent creations wait together for one store txn ({@link CreateGroupCommit})
   * rather than queue behind each other (with 16, 300 creations went as ~40 txns of 6-10). A
   * thread starts on its first request; idle ones cost nothing.
   */
  static final int HANDLER_THREADS = 64;

  private final EventLoopGroup loops;
  private final EventExecutorGroup handlers;
  private final List<Channel> channels = new ArrayList<>();
  /** Open client connections, closed before the executors stop (their teardown needs both). */
  private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private final List<SocketAddress> bound = new ArrayList<>();
  private final List<Path> socketFiles = new ArrayList<>();

  private FleetApiServer(EventLoopGroup loops, EventExecutorGroup handlers) {
    this.loops = loops;
    this.handlers = handlers;
  }

  /** Listens on every URL ({@code http://host:port}, {@code unix:///path}) and serves {@code api}. */
  public static FleetApiServer start(List<URI> listen, FleetApi api) throws IOException {
    return start(listen, api, null);
  }

  /** As {@link #start(List, FleetApi)}, serving {@code https://host:port} URLs with {@code tls}. */
  public static FleetApiServer start(List<URI> listen, FleetApi api, io.netty.handler.ssl.SslContext tls)
      throws IOException {
    boolean epoll = Epoll.isAvailable();
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    FleetApiServer server = new FleetApiServer(new MultiThreadIoEventLoopGroup(2, io),
        new DefaultEventExecutorGroup(HANDLER_THREADS));
    try {
      for (URI url : listen) {
        server.listen(url, api, epoll, tls);
      }
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
    return server;
  }

  private void listen(URI url, FleetApi api, boolean epoll, io.netty.handler.ssl.SslContext tls) throws IOException {
    boolean https = "https".equals(url.getScheme());
    if (https && tls == null) {
      throw new IOException("cannot listen on " + url + ": https needs --cert-file and --key-file");
    }
    Class<? extends ServerChannel> type;
    SocketAddress address;
    Path socketFile = null;
    switch (url.getScheme() == null ? "" : url.getScheme()) {
      case "http", "https" -> {
        type = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        String host = url.getHost() == null ? "0.0.0.0" : url.getHost();
        address = new java.net.InetSocketAddress(host, url.getPort() >= 0 ? url.getPort() : https ? 443 : 80);
      }
      case "unix" -> {
        if (!epoll) {
          throw new IOException("cannot listen on " + url + ": Unix sockets need Netty's native epoll, which is "
              + "not available here (" + Epoll.unavailabilityCause() + ")");
        }
        if (url.getPath() == null || url.getPath().isEmpty()) {
          throw new IOException("cannot listen on " + url + ": no socket path (write unix:///var/run/fleet.sock)");
        }
        socketFile = Path.of(url.getPath());
        Files.deleteIfExists(socketFile); // a socket left by a process that died; bind fails otherwise
        type = EpollServerDomainSocketChannel.class;
        address = new DomainSocketAddress(socketFile.toString());
      }
      default -> throw new IOException("cannot listen on " + url + ": use http://host:port, https://host:port or unix:///path");
    }
    ServerBootstrap b = new ServerBootstrap()
        .group(loops)
        .channel(type)
        .childHandler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            connections.add(ch);
            if (https) {
              ch.pipeline().addLast("tls", tls.newHandler(ch.alloc()));
            }
            ch.pipeline().addLast("http", new HttpServerCodec());
            ch.pipeline().addLast("aggregate", new HttpObjectAggregator(MAX_BODY_BYTES));
            ch.pipeline().addLast(handlers, "fleet", new Handler(api));
          }
        });
    Channel ch;
    try {
      ch = b.bind(address).sync().channel();
    } catch (Exception e) {
      throw new IOException("cannot listen on " + url + ": " + e.getMessage(), e);
    }
    channels.add(ch);
    bound.add(ch.localAddress());
    if (socketFile != null) {
      socketFiles.add(socketFile);
    }
    log.info("fleet API v1 on {}", url);
  }

  /** Addresses bound, in the order of the URLs (a port of 0 becomes the real one). */
  public List<SocketAddress> boundAddresses() {
    return List.copyOf(bound);
  }

  @Override
  public void close() {
    for (Channel c : channels) {
      c.close().syncUninterruptibly();
    }
    connections.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    handlers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    for (Path p : socketFiles) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException e) {
        log.warn("cannot remove socket {}: {}", p, e.toString());
      }
    }
  }

  private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final FleetApi api;

    Handler(FleetApi api) {
      this.api = api;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      ApiResponse r;
      if (!req.decoderResult().isSuccess()) {
        r = api.error(400, "malformed HTTP request: " + req.decoderResult().cause());
      } else {
        r = api.handle(req.method().name(), req.uri(), req.headers().getAll(HttpHeaderNames.CONTENT_TYPE),
            ByteBufUtil.getBytes(req.content()));
      }
      FullHttpResponse res = new DefaultFullHttpResponse(req.protocolVersion(), HttpResponseStatus.valueOf(r.status()),
          Unpooled.wrappedBuffer(r.body()));
      res.headers().set(HttpHeaderNames.SERVER, "fleetd/flotilla");
      if (r.body().length > 0) {
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
      }
      HttpUtil.setContentLength(res, r.body().length);
      boolean keepAlive = HttpUtil.isKeepAlive(req);
      HttpUtil.setKeepAlive(res, keepAlive);
      var f = ctx.writeAndFlush(res);
      if (!keepAlive) {
        f.addListener(ChannelFutureListener.CLOSE);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log.debug("fleet API connection {}: {}", ctx.channel().remoteAddress(), cause.toString());
      ctx.close();
    }
  }
}
