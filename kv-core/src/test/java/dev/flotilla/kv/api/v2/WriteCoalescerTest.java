package dev.flotilla.kv.api.v2;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** What reaches the socket through the coalescer: the same bytes in the same order, fewer buffers. */
class WriteCoalescerTest {
  private static ByteBuf text(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
  }

  private static String read(ByteBuf b) {
    try {
      return b.toString(StandardCharsets.US_ASCII);
    } finally {
      b.release();
    }
  }

  @Test
  void anAnswersHeadAndBodyLeaveAsOneBuffer() {
    var ch = new EmbeddedChannel(new WriteCoalescer(), new HttpResponseEncoder());
    String body = "x".repeat(300); // over 128 bytes: the encoder writes it as a buffer of its own
    var resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, text(body));
    resp.headers().set("Content-Length", body.length());
    ch.writeAndFlush(resp, ch.voidPromise());

    ByteBuf out = ch.readOutbound();
    assertThat(read(out)).isEqualTo("HTTP/1.1 200 OK\r\nContent-Length: 300\r\n\r\n" + body);
    assertThat((Object) ch.readOutbound()).isNull();
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void everyWritersPromiseIsCompletedWithTheJoinedWrite() {
    var ch = new EmbeddedChannel(new WriteCoalescer());
    ChannelFuture first = ch.write(text("a"));
    ch.write(text("b"), ch.voidPromise());
    ChannelFuture third = ch.write(text("c"));
    assertThat(first.isDone()).isFalse();
    ch.flush();

    assertThat(read(ch.readOutbound())).isEqualTo("abc");
    assertThat((Object) ch.readOutbound()).isNull();
    assertThat(first.isSuccess()).isTrue();
    assertThat(third.isSuccess()).isTrue();
  }

  @Test
  void aLargeBufferPassesAsItIsAfterWhatWaited() {
    var ch = new EmbeddedChannel(new WriteCoalescer());
    String big = "y".repeat(WriteCoalescer.MAX_BYTES + 1);
    ch.write(text("a"));
    ch.write(text("b"));
    ch.write(text(big));
    ch.write(text("c"));
    ch.flush();

    assertThat(read(ch.readOutbound())).isEqualTo("ab");
    assertThat(read(ch.readOutbound())).isEqualTo(big);
    assertThat(read(ch.readOutbound())).isEqualTo("c");
    assertThat((Object) ch.readOutbound()).isNull();
  }

  @Test
  void writesThatWouldPassTheLimitTogetherStartANewBuffer() {
    var ch = new EmbeddedChannel(new WriteCoalescer());
    String half = "z".repeat(WriteCoalescer.MAX_BYTES / 2 + 1);
    ch.write(text(half));
    ch.write(text(half));
    ch.flush();

    assertThat(read(ch.readOutbound())).isEqualTo(half);
    assertThat(read(ch.readOutbound())).isEqualTo(half);
    assertThat((Object) ch.readOutbound()).isNull();
  }

  @Test
  void unflushedWritesFailWhenTheChannelCloses() {
    var ch = new EmbeddedChannel(new WriteCoalescer());
    ChannelFuture a = ch.write(text("a"));
    ChannelFuture b = ch.write(text("b"));
    ch.close();

    assertThat(a.isDone() && !a.isSuccess()).isTrue();
    assertThat(b.isDone() && !b.isSuccess()).isTrue();
    assertThat((Object) ch.readOutbound()).isNull();
  }
}
