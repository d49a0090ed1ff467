package dev.flotilla.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A minimal stand-in for a v2 keys server on a loopback port: PUT stores, GET answers 200 or 404.
 * It records what it received and can misbehave on purpose (slow, closing, silent).
 */
final class FakeV2Server implements AutoCloseable {
    record Received(String method, String uri, String contentType, String body) {}

    /** Delay before each response. */
    volatile long delayMs;
    /** Answer with "Connection: close" and close after every response. */
    volatile boolean closeEach;
    /** Never answer every n-th request (0 = always answer). */
    volatile int silentEvery;

    final List<Received> received = new CopyOnWriteArrayList<>();
    final Set<String> keys = ConcurrentHashMap.newKeySet();
    final AtomicInteger maxInFlightPerConnection = new AtomicInteger();
    final AtomicInteger connectionsAccepted = new AtomicInteger();
    private final AtomicLong count = new AtomicLong();
    private final Map<Channel, AtomicInteger> inFlight = new ConcurrentHashMap<>();
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;

    FakeV2Server() throws InterruptedException {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connectionsAccepted.incrementAndGet();
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20), new Handler());
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    String url() {
        return "http://127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort();
    }

    long count(String method) {
        return received.stream().filter(r -> r.method().equals(method)).count();
    }

    @Override
    public void close() throws InterruptedException {
        server.close().sync();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            AtomicInteger mine = inFlight.computeIfAbsent(ctx.channel(), c -> new AtomicInteger());
            maxInFlightPerConnection.accumulateAndGet(mine.incrementAndGet(), Math::max);
            String body = req.content().toString(StandardCharsets.US_ASCII);
            received.add(new Received(req.method().name(), req.uri(), req.headers().get(HttpHeaderNames.CONTENT_TYPE), body));
            long n = count.incrementAndGet();
            if (silentEvery > 0 && n % silentEvery == 0) {
                return;
            }
            String key = req.uri().replaceFirst("\\?.*", "");
            HttpResponseStatus status;
            if (req.method().equals(HttpMethod.PUT)) {
                keys.add(key);
                status = HttpResponseStatus.CREATED;
            } else {
                status = keys.contains(key) ? HttpResponseStatus.OK : HttpResponseStatus.NOT_FOUND;
            }
            FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.copiedBuffer("{\"action\":\"get\"}", StandardCharsets.US_ASCII));
            resp.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
            resp.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, resp.content().readableBytes());
            boolean close = closeEach;
            if (close) {
                resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            }
            Runnable send = () -> {
                mine.decrementAndGet();
                var f = ctx.writeAndFlush(resp);
                if (close) {
                    f.addListener(ChannelFutureListener.CLOSE);
                }
            };
            if (delayMs > 0) {
                ctx.executor().schedule(send, delayMs, TimeUnit.MILLISECONDS);
            } else {
                send.run();
            }
        }
    }
}
