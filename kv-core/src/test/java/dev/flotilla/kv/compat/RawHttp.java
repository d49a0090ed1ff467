package dev.flotilla.kv.compat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Sends a request over a plain socket with the request line exactly as given, for what the JDK
 * client refuses to send (a malformed percent-escape such as {@code %zz}). The response is parsed
 * by Netty's HTTP codec.
 */
final class RawHttp {
  private RawHttp() {
  }

  record Response(int status, Map<String, List<String>> headers, byte[] body) {
  }

  static Response send(URI base, String method, String pathAndQuery, String body, String contentType)
      throws IOException {
    byte[] bodyBytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    StringBuilder head = new StringBuilder()
        .append(method).append(' ').append(pathAndQuery).append(" HTTP/1.1\r\n")
        .append("Host: ").append(base.getHost()).append(':').append(base.getPort()).append("\r\n")
        .append("Connection: close\r\n");
    if (body != null) {
      if (contentType != null) {
        head.append("Content-Type: ").append(contentType).append("\r\n");
      }
      head.append("Content-Length: ").append(bodyBytes.length).append("\r\n");
    }
    head.append("\r\n");
    byte[] raw;
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      out.write(bodyBytes);
      out.flush();
      InputStream in = s.getInputStream();
      raw = in.readAllBytes(); // Connection: close, so the server ends the stream
    }
    EmbeddedChannel ch = new EmbeddedChannel(new HttpResponseDecoder(), new HttpObjectAggregator(16 << 20));
    try {
      ch.writeInbound(Unpooled.wrappedBuffer(raw));
      ch.finish();
      Object msg = ch.readInbound();
      if (!(msg instanceof FullHttpResponse r)) {
        throw new IOException("no HTTP response in " + raw.length + " bytes: "
            + new String(raw, StandardCharsets.ISO_8859_1));
      }
      try {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (Map.Entry<String, String> h : r.headers()) {
          headers.computeIfAbsent(h.getKey().toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(h.getValue());
        }
        byte[] content = new byte[r.content().readableBytes()];
        r.content().readBytes(content);
        return new Response(r.status().code(), headers, content);
      } finally {
        r.release();
      }
    } finally {
      ch.finishAndReleaseAll();
    }
  }
}
