package dev.flotilla.kv.api;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.ssl.SslHandler;
import java.util.List;
import java.util.function.Consumer;

/**
 * Looks at the first bytes of a client connection: the HTTP/2 preface ("PRI * HTTP/2.0")
 * means a gRPC client, relayed to the gRPC server; anything else is HTTP/1.1 for the v2 API.
 * Three bytes decide: no HTTP/1.1 method starts with "PRI".
 *
 * <p>A plaintext gRPC connection on epoll leaves this Netty altogether: its socket is taken off
 * this event loop (never closed here) and handed, with the bytes read so far, to the gRPC
 * server's own (shaded) Netty, which serves it as if it had accepted it. That spares every
 * message two loopback socket hops and the relay's wake-ups. TLS connections (the bytes here are
 * the decrypted ones) and NIO sockets are relayed to the gRPC server's loopback port instead.
 */
public final class ProtocolDetector extends ByteToMessageDecoder {
  private final Consumer<ChannelHandlerContext> installHttp1;
  private final GrpcPort grpc;

  public ProtocolDetector(Consumer<ChannelHandlerContext> installHttp1, GrpcPort grpc) {
    this.installHttp1 = installHttp1;
    this.grpc = grpc;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (in.readableBytes() < 3) {
      return;
    }
    int i = in.readerIndex();
    boolean h2 = in.getByte(i) == 'P' && in.getByte(i + 1) == 'R' && in.getByte(i + 2) == 'I';
    if (h2 && grpc != null && grpc.adopts() && ctx.channel() instanceof EpollSocketChannel ch
        && ctx.pipeline().get(SslHandler.class) == null) {
      handOver(ctx, ch, in);
      return;
    }
    if (h2 && grpc != null) {
      ctx.pipeline().addAfter(ctx.name(), "grpc-relay", new GrpcRelay(grpc.address()));
    } else {
      installHttp1.accept(ctx);
    }
    // removing the decoder hands the bytes read so far to the handlers just installed
    ctx.pipeline().remove(this);
  }

  /**
   * Stops reading (the read loop checks auto-read), takes all bytes read so far, and once the
   * socket is off this event loop gives it to the gRPC server.
   */
  private void handOver(ChannelHandlerContext ctx, EpollSocketChannel ch, ByteBuf in) {
    ch.config().setAutoRead(false);
    byte[] read = new byte[in.readableBytes()];
    in.readBytes(read);
    ctx.pipeline().remove(this);
    int fd = ch.fd().intValue();
    ch.deregister().addListener(f -> {
      if (!f.isSuccess()) {
        ch.close();
      } else {
        grpc.adopt(fd, read);
      }
    });
  }
}
