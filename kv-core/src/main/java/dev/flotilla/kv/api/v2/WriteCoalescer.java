package dev.flotilla.kv.api.v2;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import java.util.ArrayList;
import java.util.List;

/**
 * Joins the small buffers written between two flushes into one buffer, so that an answer reaches
 * the kernel as one {@code write()} rather than a {@code writev()} of its parts: Netty's HTTP
 * encoder writes the head of a response as one buffer and a body over 128 bytes as another, so
 * every v2 answer was a writev of two. The bytes on the wire are the same; only how many buffers
 * carry them changes. Sits between the HTTP codec and the socket (or the TLS handler), on the
 * channel's event loop, so it needs no locking. A buffer over {@link #MAX_BYTES}, or anything not a
 * buffer, is passed on as it is, after what was waiting (order kept).
 */
final class WriteCoalescer extends ChannelOutboundHandlerAdapter {
  /** Above this, copying would cost more than the writev it saves. */
  static final int MAX_BYTES = 16 << 10;

  private final List<ByteBuf> buffers = new ArrayList<>(4);
  private final List<ChannelPromise> promises = new ArrayList<>(4);
  private int bytes;

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof ByteBuf buf && buf.readableBytes() <= MAX_BYTES) {
      if (bytes + buf.readableBytes() > MAX_BYTES) {
        passOn(ctx);
      }
      buffers.add(buf);
      promises.add(promise);
      bytes += buf.readableBytes();
      return;
    }
    passOn(ctx);
    ctx.write(msg, promise);
  }

  @Override
  public void flush(ChannelHandlerContext ctx) {
    passOn(ctx);
    ctx.flush();
  }

  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
    passOn(ctx); // unflushed, as they would have been without this handler: the close fails them
    ctx.close(promise);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    passOn(ctx);
  }

  /** Writes what waits: one buffer as it is, several copied into one. */
  private void passOn(ChannelHandlerContext ctx) {
    int n = buffers.size();
    if (n == 0) {
      return;
    }
    if (n == 1) {
      ByteBuf only = buffers.get(0);
      ChannelPromise p = promises.get(0);
      clear();
      ctx.write(only, p);
      return;
    }
    ByteBuf joined = ctx.alloc().directBuffer(bytes);
    ChannelPromise promise = null;
    List<ChannelPromise> waiting = null;
    try {
      for (ByteBuf b : buffers) {
        joined.writeBytes(b, b.readerIndex(), b.readableBytes());
      }
    } catch (RuntimeException e) {
      joined.release();
      for (int i = 0; i < n; i++) {
        buffers.get(i).release();
        promises.get(i).tryFailure(e);
      }
      clear();
      throw e;
    }
    for (int i = 0; i < n; i++) {
      buffers.get(i).release();
      ChannelPromise p = promises.get(i);
      if (!p.isVoid()) {
        if (waiting == null) {
          waiting = new ArrayList<>(n);
        }
        waiting.add(p);
      }
    }
    clear();
    if (waiting == null) {
      promise = ctx.voidPromise();
    } else {
      promise = ctx.newPromise();
      List<ChannelPromise> told = waiting;
      promise.addListener(f -> {
        for (ChannelPromise p : told) {
          if (f.isSuccess()) {
            p.trySuccess();
          } else {
            p.tryFailure(f.cause());
          }
        }
      });
    }
    ctx.write(joined, promise);
  }

  private void clear() {
    buffers.clear();
    promises.clear();
    bytes = 0;
  }
}
