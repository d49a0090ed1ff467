package dev.flotilla.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** Owns the event loops and the connection slots, and starts runs over all slots at once. */
final class LoadDriver implements AutoCloseable {
    /** Socket transport; {@code AUTO} takes epoll where Netty's native library loads. */
    enum Transport { AUTO, EPOLL, NIO }

    private final EventLoopGroup group;
    private final String transportName;
    private final List<ConnectionSlot> slots = new ArrayList<>();
    private volatile boolean closing;

    LoadDriver(InetSocketAddress server, int connections, int threads, Transport transport, long timeoutNanos) {
        this(server, connections, threads, transport, timeoutNanos, null);
    }

    /** With {@code tls} (null: plaintext), each connection does a TLS handshake first (https URLs). */
    LoadDriver(InetSocketAddress server, int connections, int threads, Transport transport, long timeoutNanos,
               io.netty.handler.ssl.SslContext tls) {
        boolean epoll = switch (transport) {
            case AUTO -> Epoll.isAvailable();
            case EPOLL -> {
                Epoll.ensureAvailability();
                yield true;
            }
            case NIO -> false;
        };
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        Class<? extends Channel> channelClass = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
        transportName = epoll ? "epoll" : "nio";
        group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("v2load"), io);
        Bootstrap bootstrap = new Bootstrap()
                .channel(channelClass)
                .remoteAddress(server)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5_000);
        List<EventLoop> loops = new ArrayList<>();
        group.forEach(e -> loops.add((EventLoop) e));
        for (int i = 0; i < connections; i++) {
            // Round-robin pinning: each slot lives on one loop for its whole life.
            slots.add(new ConnectionSlot(this, bootstrap, loops.get(i % loops.size()), timeoutNanos, tls,
                    server));
        }
    }

    String transportName() {
        return transportName;
    }

    boolean closing() {
        return closing;
    }

    /** Opens every connection before any clock starts; fails with the first connect error. */
    void connectAll() throws IOException, InterruptedException {
        List<ChannelFuture> pending = new ArrayList<>();
        for (ConnectionSlot slot : slots) {
            try {
                pending.add(slot.loop().submit(slot::connect).get());
            } catch (ExecutionException e) {
                throw new IOException("could not start a connection: " + e.getCause(), e.getCause());
            }
        }
        for (ChannelFuture f : pending) {
            f.await();
            if (!f.isSuccess()) {
                Throwable cause = f.cause();
                throw new IOException(cause.getClass().getSimpleName() + ": " + cause.getMessage(), cause);
            }
        }
    }

    void start(Run run) {
        for (ConnectionSlot slot : slots) {
            slot.loop().execute(() -> slot.begin(run));
        }
    }

    int connections() {
        return slots.size();
    }

    @Override
    public void close() throws InterruptedException {
        closing = true;
        for (ConnectionSlot slot : slots) {
            slot.loop().execute(slot::close);
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
    }
}
