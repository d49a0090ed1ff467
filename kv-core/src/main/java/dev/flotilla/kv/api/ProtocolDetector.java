package dev.flotilla.kv.api;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.Consumer;

/**
 * Looks at the first bytes of a client connection: the HTTP/2 preface ("PRI * HTTP/2.0")
 * means a gRPC client, relayed to the gRPC server; anything else is HTTP/1.1 for the v2 API.
 * Three bytes decide: no HTTP/1.1 method starts with "PRI".
 */
public final class ProtocolDetector extends ByteToMessageDecoder {
  private final Consumer<ChannelHandlerContext> installHttp1;
  private final InetSocketAddress grpc;

  public ProtocolDetector(Consumer<ChannelHandlerContext> installHttp1, InetSocketAddress grpc) {
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
    if (h2 && grpc != null) {
      ctx.pipeline().addAfter(ctx.name(), "grpc-relay", new GrpcRelay(grpc));
    } else {
      installHttp1.accept(ctx);
    }
    // removing the decoder hands the bytes read so far to the handlers just installed
    ctx.pipeline().remove(this);
  }
}
