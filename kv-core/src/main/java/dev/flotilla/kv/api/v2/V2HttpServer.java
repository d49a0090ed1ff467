package dev.flotilla.kv.api.v2;

import dev.flotilla.kv.server.LoopShare;
import dev.flotilla.kv.api.GrpcPort;
import dev.flotilla.kv.api.ProtocolDetector;
import dev.flotilla.kv.api.v3.V3Gateway;
import dev.flotilla.kv.server.StoreMember;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import dev.flotilla.kv.tls.TlsCredentials;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client-facing server on every client URL (Netty): HTTP/1.1 with keep-alive for the v2
 * API, and gRPC (HTTP/2) connections handed to the v3 services, on the same port as etcd.
 */
public final class V2HttpServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(V2HttpServer.class);
  /** Go's http server refuses form bodies over 10 MiB; ours refuses bodies over this too. */
  static final int MAX_BODY_BYTES = 10 << 20;

  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final List<Channel> channels = new ArrayList<>();
  private final List<InetSocketAddress> bound = new ArrayList<>();

  private V2HttpServer(EventLoopGroup boss, EventLoopGroup workers) {
    this.boss = boss;
    this.workers = workers;
  }

  /** The rendered answers of plain GETs kept per server (see {@link V2ReadCache}). */
  static final long READ_CACHE_BYTES = 16L << 20;

  /**
   * Serves the client URLs: HTTP/1.1 (the v2 API) here, and gRPC connections handed over or
   * relayed to {@code grpc} (null: HTTP/1.1 only); {@code loops} event loops serve the connections.
   */
  public static V2HttpServer start(List<URI> listenUrls, StoreMember member, long maxRequestBytes,
      GrpcPort grpc, V3Gateway gateway, LoopShare loops) throws IOException {
    return start(listenUrls, member, maxRequestBytes, grpc, gateway, member.clientTls(), loops);
  }

  /**
   * Serves the client URLs; the https:// ones with TLS from {@code tls} (the handshake first, then
   * the same detection of gRPC or HTTP/1.1 on the decrypted bytes; ALPN offers h2 and http/1.1).
   */
  public static V2HttpServer start(List<URI> listenUrls, StoreMember member, long maxRequestBytes,
      GrpcPort grpc, V3Gateway gateway, TlsCredentials tls, LoopShare loops) throws IOException {
    boolean epoll = Epoll.isAvailable();
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    Class<? extends ServerChannel> channelType =
        epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    var server = new V2HttpServer(new MultiThreadIoEventLoopGroup(1, io),
        new MultiThreadIoEventLoopGroup(loops.count(), io));
    var keys = new V2KeysService(member, maxRequestBytes, READ_CACHE_BYTES);
    var membership = new V2MembersService(member); // one per port, not per connection: see its HttpClient
    try {
      for (URI url : listenUrls) {
        SslContext ssl = null;
        if ("https".equals(url.getScheme())) {
          if (tls == null) {
            throw new IllegalArgumentException("listen URL " + url + " is https: give --cert-file and --key-file");
          }
          ssl = tls.nettyServer();
        } else if (!"http".equals(url.getScheme())) {
          throw new IllegalArgumentException("listen URL " + url + ": the scheme must be http or https");
        }
        SslContext sslContext = ssl;
        String host = url.getHost() == null ? "0.0.0.0" : url.getHost();
        int port = url.getPort() < 0 ? 2379 : url.getPort();
        var b = new ServerBootstrap()
            .group(server.boss, server.workers)
            .channel(channelType)
            .option(ChannelOption.SO_BACKLOG, 1024)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(new ChannelInitializer<SocketChannel>() {
              @Override
              protected void initChannel(SocketChannel ch) {
                if (sslContext != null) {
                  ch.pipeline().addLast("tls", sslContext.newHandler(ch.alloc()));
                  ch.pipeline().addLast("tls-failure", new HandshakeFailure());
                }
                ch.pipeline().addLast("detect", new ProtocolDetector(ctx -> {
                  String at = ctx.name();
                  // outbound, the codec's head and body buffers pass through the coalescer: one write()
                  ctx.pipeline().addAfter(at, "write-coalescer", new WriteCoalescer());
                  ctx.pipeline().addAfter("write-coalescer", "http-codec", new HttpServerCodec(8192, 65536, 65536));
                  ctx.pipeline().addAfter("http-codec", "http-aggregator", new Aggregator());
                  ctx.pipeline().addAfter("http-aggregator", "v2", new V2HttpHandler(keys, membership, member, gateway));
                }, grpc));
              }
            });
        Channel ch;
        try {
          ch = b.bind(host, port).sync().channel();
        } catch (Exception e) {
          throw new IOException("cannot listen on " + url + ": " + e.getMessage(), e);
        }
        server.channels.add(ch);
        server.bound.add((InetSocketAddress) ch.localAddress());
        log.info("serving client requests on {} ({}, event loops: {}, {}{})", url, epoll ? "epoll" : "nio",
            loops.count(), loops.why(),
            sslContext == null ? "" : ", TLS by " + (sslContext.isServer() && sslContext instanceof io.netty.handler.ssl.JdkSslContext
                ? "the JDK" : "BoringSSL") + (tls.settings().clientCertAuth() ? ", client certificates required" : ""));
      }
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
    return server;
  }

  /** Addresses actually bound (a listen port of 0 becomes a real one). */
  public List<InetSocketAddress> boundAddresses() {
    return List.copyOf(bound);
  }

  @Override
  public void close() {
    for (Channel c : channels) {
      c.close().syncUninterruptibly();
    }
    boss.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    workers.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
  }

  /**
   * Closes a connection whose TLS handshake failed (a plaintext client, a certificate no trusted CA
   * signed): logged once at debug, not as an unhandled pipeline exception.
   */
  private static final class HandshakeFailure extends io.netty.channel.ChannelInboundHandlerAdapter {
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof io.netty.handler.ssl.SslHandshakeCompletionEvent e && !e.isSuccess()) {
        log.debug("TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), e.cause().toString());
        ctx.close();
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      // removed once the handshake succeeded: it has nothing more to do
      ctx.pipeline().get(io.netty.handler.ssl.SslHandler.class).handshakeFuture().addListener(f -> {
        if (f.isSuccess() && ctx.pipeline().context(this) != null) {
          ctx.pipeline().remove(this);
        }
      });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (cause instanceof io.netty.handler.ssl.NotSslRecordException
          || cause instanceof io.netty.handler.codec.DecoderException
          && cause.getCause() instanceof javax.net.ssl.SSLException) {
        // a plaintext client on an https URL, or a refused certificate
        log.debug("TLS failure with {}: {}", ctx.channel().remoteAddress(),
            (cause.getCause() != null ? cause.getCause() : cause).toString());
        ctx.close();
        return;
      }
      ctx.fireExceptionCaught(cause);
    }
  }

  /** Aggregates bodies; a body too large gets an etcd-shaped error instead of Netty's bare 413. */
  private static final class Aggregator extends HttpObjectAggregator {
    Aggregator() {
      super(MAX_BODY_BYTES, true);
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
      byte[] body = ("{\"errorCode\":210,\"message\":\"Invalid POST form\","
          + "\"cause\":\"http: POST too large\",\"index\":0}\n").getBytes();
      FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
          HttpResponseStatus.BAD_REQUEST, Unpooled.wrappedBuffer(body));
      r.headers().set("Content-Type", "application/json")
          .set("Content-Length", body.length)
          .set(HttpHeaderNames.CONNECTION, "close");
      ctx.writeAndFlush(r).addListener(io.netty.channel.ChannelFutureListener.CLOSE);
    }
  }
}
