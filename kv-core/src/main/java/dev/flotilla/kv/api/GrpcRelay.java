package dev.flotilla.kv.api;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Queue;

/**
 * Relays one client connection to the gRPC server, bytes unchanged, with back-pressure both
 * ways (a side reads only while the other side's writes drain).
 */
final class GrpcRelay extends ChannelInboundHandlerAdapter {
  private final InetSocketAddress target;
  private final Queue<Object> pending = new ArrayDeque<>();
  private Channel backend;

  GrpcRelay(InetSocketAddress target) {
    this.target = target;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    Channel front = ctx.channel();
    front.config().setAutoRead(false);
    Bootstrap b = new Bootstrap().group(front.eventLoop())
        .channel(front instanceof io.netty.channel.epoll.EpollSocketChannel
            ? EpollSocketChannel.class : NioSocketChannel.class)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.AUTO_READ, false)
        .handler(new Back(front));
    b.connect(target).addListener((ChannelFutureListener) f -> {
      if (!f.isSuccess()) {
        front.close();
        return;
      }
      backend = f.channel();
      Object m;
      while ((m = pending.poll()) != null) {
        backend.write(m);
      }
      backend.flush();
      backend.read();
      front.read();
    });
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (backend == null) {
      pending.add(msg);
      return;
    }
    forward(msg, backend, ctx.channel());
  }

  /** Writes to {@code to}; reads more from {@code from} only once the write drained. */
  static void forward(Object msg, Channel to, Channel from) {
    to.writeAndFlush(msg).addListener((ChannelFutureListener) f -> {
      if (f.isSuccess()) {
        from.read();
      } else {
        to.close();
        from.close();
      }
    });
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    pending.forEach(ReferenceCountUtil::release);
    pending.clear();
    if (backend != null) {
      closeOnFlush(backend);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    closeOnFlush(ctx.channel());
  }

  static void closeOnFlush(Channel ch) {
    if (ch.isActive()) {
      ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }

  private static final class Back extends ChannelInboundHandlerAdapter {
    private final Channel front;

    Back(Channel front) {
      this.front = front;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      forward(msg, front, ctx.channel());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      closeOnFlush(front);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      closeOnFlush(ctx.channel());
    }
  }
}
