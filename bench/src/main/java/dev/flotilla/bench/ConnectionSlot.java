package dev.flotilla.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.concurrent.TimeUnit;

/**
 * One client connection of the closed loop: exactly one request in flight, the next sent when the
 * last byte of the previous response arrives (no pipelining, like wrk). If the connection drops
 * or a request times out, the slot counts the error and reconnects while its run lasts.
 *
 * <p>All state is confined to {@link #loop}: every method runs on that thread.
 */
final class ConnectionSlot {
    private static final long MAX_RECONNECT_DELAY_MS = 1_000;
    /** Response headers are only counted, never used: skip validating them, it is client CPU. */
    private static final HttpDecoderConfig DECODER = new HttpDecoderConfig()
            .setHeadersFactory(DefaultHttpHeadersFactory.headersFactory().withValidation(false));

    private final Bootstrap bootstrap;
    private final EventLoop loop;
    private final long timeoutNanos;
    private final LoadDriver driver;

    private Channel channel;
    private boolean connecting;
    private long reconnectDelayMs = 10;

    private Run run;
    private boolean doneWithRun = true;
    private LoopStats stats;

    private boolean inFlight;
    private long sentAt;
    private int status;
    private boolean closeAfterResponse;
    /** We closed the connection because the server asked to: reconnect at once, no back-off. */
    private boolean closedByServerRequest;

    ConnectionSlot(LoadDriver driver, Bootstrap bootstrap, EventLoop loop, long timeoutNanos,
                   io.netty.handler.ssl.SslContext tls, java.net.InetSocketAddress server) {
        this.driver = driver;
        this.loop = loop;
        this.timeoutNanos = timeoutNanos;
        this.bootstrap = bootstrap.clone(loop).handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                if (tls != null) {
                    ch.pipeline().addLast(tls.newHandler(ch.alloc(), server.getHostString(), server.getPort()));
                }
                ch.pipeline().addLast(new HttpClientCodec(DECODER, HttpClientCodec.DEFAULT_FAIL_ON_MISSING_RESPONSE,
                        HttpClientCodec.DEFAULT_PARSE_HTTP_AFTER_CONNECT_REQUEST), new ResponseHandler());
            }
        });
        long sweepMs = Math.max(10, TimeUnit.NANOSECONDS.toMillis(timeoutNanos) / 10);
        loop.scheduleAtFixedRate(this::sweepTimeout, sweepMs, sweepMs, TimeUnit.MILLISECONDS);
    }

    EventLoop loop() {
        return loop;
    }

    ChannelFuture connect() {
        connecting = true;
        ChannelFuture f = bootstrap.connect();
        f.addListener((ChannelFuture done) -> {
            connecting = false;
            if (!done.isSuccess()) {
                onConnectFailed(done.cause());
            }
        });
        return f;
    }

    /** Starts working for {@code next}; takes over from any earlier run. */
    void begin(Run next) {
        run = next;
        doneWithRun = false;
        stats = next.statsFor(loop);
        if (channel != null && channel.isActive()) {
            sendNext();
        } else if (channel == null && !connecting) {
            connect();
        }
    }

    void close() {
        if (channel != null) {
            channel.close();
        }
    }

    private void sendNext() {
        if (run == null || doneWithRun || inFlight || channel == null || !channel.isActive()) {
            return;
        }
        long now = System.nanoTime();
        var request = run.over(now) ? null : run.source().next();
        if (request == null) {
            finishRun();
            return;
        }
        inFlight = true;
        sentAt = now;
        status = 0;
        closeAfterResponse = false;
        channel.writeAndFlush(request, channel.voidPromise());
    }

    private void finishRun() {
        if (!doneWithRun) {
            doneWithRun = true;
            run.slotDone();
        }
    }

    private void onActive(Channel ch) {
        channel = ch;
        reconnectDelayMs = 10;
        sendNext();
    }

    private void onResponseHead(HttpResponse response) {
        status = response.status().code();
        closeAfterResponse = !HttpUtil.isKeepAlive(response);
    }

    private void onResponseEnd() {
        if (!inFlight) {
            return; // a response to a request already counted as timed out
        }
        long now = System.nanoTime();
        inFlight = false;
        if (run != null && run.inWindow(now)) {
            stats.recordResponse(status, now - sentAt);
        }
        if (closeAfterResponse) {
            closedByServerRequest = true;
            channel.close(); // onInactive reconnects
        } else {
            sendNext();
        }
    }

    private void onFailure(Channel ch, Throwable cause) {
        if (inFlight) {
            inFlight = false;
            if (run != null && run.inWindow(System.nanoTime())) {
                stats.recordIoError(cause);
            }
        }
        ch.close();
    }

    private void onInactive() {
        channel = null;
        if (inFlight) {
            inFlight = false;
            if (run != null && run.inWindow(System.nanoTime())) {
                stats.recordIoError(null);
            }
        }
        if (closedByServerRequest) {
            closedByServerRequest = false;
            reconnectDelayMs = 0;
        }
        scheduleReconnect();
    }

    private void onConnectFailed(Throwable cause) {
        if (run != null && !doneWithRun && run.inWindow(System.nanoTime())) {
            stats.recordConnectError(cause);
        }
        scheduleReconnect();
    }

    private void scheduleReconnect() {
        if (driver.closing() || run == null || doneWithRun) {
            return; // the next begin() connects
        }
        if (run.over(System.nanoTime())) {
            finishRun();
            return;
        }
        long delay = reconnectDelayMs;
        reconnectDelayMs = Math.min(MAX_RECONNECT_DELAY_MS, Math.max(10, reconnectDelayMs * 2));
        loop.schedule(() -> {
            if (!driver.closing() && channel == null && !connecting) {
                connect();
            }
        }, delay, TimeUnit.MILLISECONDS);
    }

    private void sweepTimeout() {
        long now = System.nanoTime();
        if (inFlight && now - sentAt > timeoutNanos) {
            inFlight = false;
            if (run != null && run.inWindow(now)) {
                stats.recordTimeout(timeoutNanos);
            }
            if (channel != null) {
                channel.close(); // the response may still come; a fresh connection avoids reading it
            }
        } else if (!inFlight && run != null && !doneWithRun && run.over(now)) {
            finishRun(); // idle after the window: a dead connection would otherwise never say so
        }
    }

    private final class ResponseHandler extends SimpleChannelInboundHandler<HttpObject> {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            onActive(ctx.channel());
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg.decoderResult().isFailure()) {
                onFailure(ctx.channel(), msg.decoderResult().cause());
                return;
            }
            if (msg instanceof HttpResponse response) {
                onResponseHead(response);
            }
            if (msg instanceof LastHttpContent) {
                onResponseEnd();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            onFailure(ctx.channel(), cause);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            onInactive();
        }
    }
}
