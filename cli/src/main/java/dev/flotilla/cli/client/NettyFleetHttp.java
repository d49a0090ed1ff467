package dev.flotilla.cli.client;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.Deque;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@link FleetHttp} over Netty's HTTP/1.1 client codec, on TCP (the JDK's selector) or on a Unix domain
 * socket (native epoll). Keep-alive connections, opened on first use and again if fleetd closed one; each carries
 * one request at a time, and up to {@link #MAX_CONNECTIONS} requests from different threads go at
 * once (a command acting on hundreds of units sends them side by side). Each connect and each
 * answer is bounded by the request timeout.
 */
public final class NettyFleetHttp implements FleetHttp {
  /** fleetd refuses bodies above 16 MiB; its answers are listings of at most 100 units. */
  private static final int MAX_RESPONSE_BYTES = 64 << 20;

  /** Netty's native errors: "connect(..) failed: ...", "finishConnect(..) failed with error(-111): ...". */
  private static final Pattern NATIVE_FAILURE = Pattern.compile(
      "failed(?: with error\\(-?\\d+\\))?: ");

  private final Endpoint endpoint;
  private final long timeoutNanos;
  /**
   * Requests in flight at most: fleetd answers on {@code FleetApiServer.HANDLER_THREADS} (64)
   * threads and commits concurrent creations together, so 300 creations go as ~10 store txns
   * (16: ~40 txns of 6-10 units, as each batch's answers and the next requests crossed).
   */
  public static final int MAX_CONNECTIONS = 64;

  private final EventLoopGroup group;
  private final Bootstrap bootstrap;
  private final Semaphore permits = new Semaphore(MAX_CONNECTIONS);
  /** Connections open and not in use. */
  private final Deque<Channel> idle = new ConcurrentLinkedDeque<>();

  public NettyFleetHttp(Endpoint endpoint, Duration timeout) {
    this(endpoint, timeout, null);
  }

  /**
   * A client of {@code endpoint}; an https endpoint is reached over TLS with {@code tls} (fctl's
   * --ca-file, --cert-file, --key-file; null: the system's CAs, no client certificate).
   */
  public NettyFleetHttp(Endpoint endpoint, Duration timeout, SslContext tls) {
    this.endpoint = endpoint;
    if (endpoint.https() && tls == null) {
      try (var creds = dev.flotilla.kv.tls.TlsCredentials.load(dev.flotilla.kv.tls.TlsSettings.tool(null, null, null))) {
        tls = creds.nettyClient();
      } catch (java.io.IOException e) {
        throw new UnreachableException("cannot set up TLS for " + endpoint + ": " + e.getMessage(), e);
      }
    }
    SslContext ssl = endpoint.https() ? tls : null;
    this.timeoutNanos = timeout.toNanos();
    // native epoll only where it is needed, for a Unix socket: loading it (Netty writes its library to a
    // temp file and loads that) took ~45 ms of a command's CPU, and the JDK's selector serves TCP as well
    // for a few connections
    boolean unix = endpoint.isUnix();
    if (unix && !Epoll.isAvailable()) {
      throw new UnreachableException("cannot use " + endpoint + ": Unix sockets need Netty's native epoll, which is "
          + "not available here (" + Epoll.unavailabilityCause() + "); use an http:// endpoint", null);
    }
    this.group = new MultiThreadIoEventLoopGroup(1, unix ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    Class<? extends Channel> type = unix ? EpollDomainSocketChannel.class : NioSocketChannel.class;
    this.bootstrap = new Bootstrap()
        .group(group)
        .channel(type)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis())))
        .handler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            if (ssl != null) {
              ch.pipeline().addLast("tls", ssl.newHandler(ch.alloc(), endpoint.host(), endpoint.port()));
            }
            ch.pipeline().addLast("http", new HttpClientCodec());
            ch.pipeline().addLast("aggregate", new HttpObjectAggregator(MAX_RESPONSE_BYTES));
            Exchange exchange = new Exchange();
            ch.attr(EXCHANGE).set(exchange); // kept after a close empties the pipeline
            ch.pipeline().addLast("exchange", exchange);
          }
        });
  }

  /**
   * Initializes the classes a client's first connection and request use, as that request would
   * (Netty's event loop, whose loggers find slf4j's provider by a scan of the class path; the
   * channel, the HTTP codec): fctl calls it on a thread of its own while picocli parses the line.
   */
  public static void prepare() {
    for (Class<?> c : List.of(MultiThreadIoEventLoopGroup.class, NioIoHandler.class, NioSocketChannel.class,
        Bootstrap.class, HttpClientCodec.class, HttpObjectAggregator.class, DefaultFullHttpRequest.class)) {
      try {
        Class.forName(c.getName(), true, c.getClassLoader());
      } catch (ClassNotFoundException e) {
        throw new IllegalStateException(e); // it is right there: c is the class
      }
    }
  }

  @Override
  public Response send(String method, String pathAndQuery, byte[] jsonBody) {
    permits.acquireUninterruptibly();
    Channel ch;
    try {
      ch = connected();
    } catch (RuntimeException e) {
      permits.release();
      throw e;
    }
    CompletableFuture<Response> answer = new CompletableFuture<>();
    ch.attr(EXCHANGE).get().expect(answer);
    FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(method), pathAndQuery,
        jsonBody == null ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(jsonBody));
    req.headers().set(HttpHeaderNames.HOST, endpoint.hostHeader());
    req.headers().set(HttpHeaderNames.USER_AGENT, "fctl");
    req.headers().set(HttpHeaderNames.ACCEPT, HttpHeaderValues.APPLICATION_JSON);
    if (jsonBody != null) {
      req.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
    }
    HttpUtil.setContentLength(req, jsonBody == null ? 0 : jsonBody.length);
    HttpUtil.setKeepAlive(req, true);
    ch.writeAndFlush(req).addListener(w -> {
      if (!w.isSuccess()) {
        answer.completeExceptionally(w.cause());
      }
    });
    try {
      Response r = answer.get(timeoutNanos, TimeUnit.NANOSECONDS);
      idle.push(ch);
      return r;
    } catch (TimeoutException e) {
      drop(ch);
      throw new UnreachableException("no answer from fleetd at " + endpoint + " to " + method + " " + pathAndQuery
          + " within " + seconds() + " (raise --request-timeout if fleetd is busy)", e);
    } catch (ExecutionException e) {
      drop(ch);
      Throwable cause = e.getCause() instanceof io.netty.handler.codec.DecoderException d && d.getCause() != null
          ? d.getCause() : e.getCause();
      if (cause instanceof javax.net.ssl.SSLException) {
        // with TLS 1.3 fleetd refuses a client certificate after the client's side of the handshake
        throw new UnreachableException("fleetd at " + endpoint + " refused the TLS connection: " + reason(cause)
            + "; check --ca-file, --cert-file and --key-file", cause);
      }
      throw new UnreachableException("fleetd at " + endpoint + " did not answer " + method + " " + pathAndQuery
          + ": " + reason(e.getCause()), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      drop(ch);
      throw new UnreachableException("interrupted while waiting for fleetd at " + endpoint, e);
    } finally {
      permits.release();
    }
  }

  /** An idle open connection, or a new one (the caller holds a permit). */
  private Channel connected() {
    for (Channel c = idle.poll(); c != null; c = idle.poll()) {
      if (c.isActive()) {
        return c;
      }
      drop(c); // fleetd closed it meanwhile
    }
    SocketAddress address;
    if (endpoint.isUnix()) {
      if (!Files.exists(endpoint.socket())) {
        throw new UnreachableException("cannot reach fleetd at " + endpoint + ": there is no socket "
            + endpoint.socket() + "; is fleetd running there? Point fctl at it with --endpoint or FLEETCTL_ENDPOINT",
            null);
      }
      address = new DomainSocketAddress(endpoint.socket().toString());
    } else {
      InetSocketAddress inet = new InetSocketAddress(endpoint.host(), endpoint.port());
      if (inet.isUnresolved()) {
        throw new UnreachableException("cannot reach fleetd at " + endpoint + ": unknown host '" + endpoint.host()
            + "'; check --endpoint or FLEETCTL_ENDPOINT", null);
      }
      address = inet;
    }
    ChannelFuture f = bootstrap.connect(address);
    boolean done = f.awaitUninterruptibly(timeoutNanos + TimeUnit.MILLISECONDS.toNanos(100), TimeUnit.NANOSECONDS);
    if (!done || !f.isSuccess()) {
      f.cancel(false);
      f.channel().close();
      String why = done ? reason(f.cause()) : "no connection within " + seconds();
      throw new UnreachableException("cannot reach fleetd at " + endpoint + ": " + why
          + "; is fleetd running there? Point fctl at it with --endpoint or FLEETCTL_ENDPOINT", f.cause());
    }
    SslHandler tls = f.channel().pipeline().get(SslHandler.class);
    if (tls != null) {
      var handshake = tls.handshakeFuture();
      boolean shook = handshake.awaitUninterruptibly(timeoutNanos, TimeUnit.NANOSECONDS);
      if (!shook || !handshake.isSuccess()) {
        f.channel().close();
        String why = shook ? reason(handshake.cause()) : "no TLS handshake within " + seconds();
        throw new UnreachableException("cannot reach fleetd at " + endpoint + ": TLS handshake failed: " + why
            + "; check --ca-file, --cert-file and --key-file", handshake.cause());
      }
    }
    return f.channel();
  }

  private static void drop(Channel c) {
    c.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
  }

  private String seconds() {
    return String.format(Locale.ROOT, "%.1f s", timeoutNanos / 1e9);
  }

  /** "connection refused", "no such file or directory": the cause without Netty's decoration. */
  static String reason(Throwable t) {
    if (t == null) {
      return "unknown error";
    }
    String m = t.getMessage();
    if (m == null || m.isBlank()) {
      return t.getClass().getSimpleName();
    }
    Matcher failed = NATIVE_FAILURE.matcher(m);
    if (failed.find()) {
      m = m.substring(failed.end());
    }
    int addr = m.indexOf(": /");
    if (addr > 0) {
      m = m.substring(0, addr);
    }
    return m.isEmpty() ? t.getClass().getSimpleName() : Character.toLowerCase(m.charAt(0)) + m.substring(1);
  }

  @Override
  public void close() {
    for (Channel c = idle.poll(); c != null; c = idle.poll()) {
      drop(c);
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
  }

  /** The connection's {@link Exchange}. */
  private static final AttributeKey<Exchange> EXCHANGE = AttributeKey.valueOf("fctl-exchange");

  /**
   * Hands the one answer awaited to the caller. A connection can end before its first request is
   * sent (fleetd refusing the TLS handshake closes it while the request is being made): the
   * request then fails at once with what ended it.
   */
  private static final class Exchange extends SimpleChannelInboundHandler<FullHttpResponse> {
    private CompletableFuture<Response> pending;
    /** What ended the connection; null while it is open. */
    private Throwable ended;

    /** The answer to the request about to be sent, failed at once if the connection has ended. */
    synchronized void expect(CompletableFuture<Response> answer) {
      if (ended != null) {
        answer.completeExceptionally(ended);
      } else {
        pending = answer;
      }
    }

    private synchronized CompletableFuture<Response> pending() {
      return pending;
    }

    /** Records why the connection ended (the first cause stays) and returns the answer awaited. */
    private synchronized CompletableFuture<Response> end(Throwable why) {
      if (ended == null) {
        ended = why;
      }
      return pending;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse res) {
      CompletableFuture<Response> p = pending();
      if (p != null) {
        p.complete(new Response(res.status().code(), ByteBufUtil.getBytes(res.content())));
      }
      if (!HttpUtil.isKeepAlive(res)) {
        ctx.close();
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      IOException closed = new IOException("fleetd closed the connection without an answer");
      CompletableFuture<Response> p = end(closed);
      if (p != null) {
        p.completeExceptionally(closed);
      }
      super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      CompletableFuture<Response> p = end(cause);
      if (p != null) {
        p.completeExceptionally(cause);
      }
      ctx.close();
    }
  }
}
