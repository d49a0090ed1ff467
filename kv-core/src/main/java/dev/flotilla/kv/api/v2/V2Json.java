package dev.flotilla.kv.api.v2;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import dev.flotilla.kv.v2.V2Error;
import dev.flotilla.kv.v2.V2Event;
import dev.flotilla.kv.v2.V2Node;
import dev.flotilla.kv.v2.V2Path;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * JSON of v2 answers, shaped as etcd's Go encoder writes them: the same field order, the
 * same omitted empty fields, HTML-sensitive characters escaped, a trailing newline.
 */
final class V2Json {
  private static final JsonFactory FACTORY = JsonFactory.builder()
      // astral characters as raw UTF-8, never as escaped surrogate pairs (as Go writes them)
      .enable(com.fasterxml.jackson.core.json.JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8)
      .build()
      .setCharacterEscapes(new GoEscapes());
  private static final DateTimeFormatter SECONDS =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss").withZone(ZoneOffset.UTC);

  private V2Json() {}

  static void writeEvent(ByteBuf out, V2Event e, boolean noValue) {
    try (JsonGenerator g = FACTORY.createGenerator((java.io.OutputStream) new ByteBufOutputStream(out))) {
      g.writeStartObject();
      g.writeStringField("action", e.action());
      if (!noValue) {
        if (e.node() != null) {
          g.writeFieldName("node");
          writeNode(g, e.node());
        }
        if (e.prevNode() != null) {
          g.writeFieldName("prevNode");
          writeNode(g, e.prevNode());
        }
      }
      g.writeEndObject();
      g.writeRaw('\n');
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
  }

  /** An event's JSON as {@link #writeEvent} writes it (with values), in an array of its own. */
  static byte[] eventBytes(V2Event e) {
    ByteBuf buf = Unpooled.buffer(RENDER_BUFFER_BYTES);
    writeEvent(buf, e, false);
    return ByteBufUtil.getBytes(buf);
  }

  /** An error's JSON as {@link #writeError} writes it, in an array of its own. */
  static byte[] errorBytes(V2Error e) {
    ByteBuf buf = Unpooled.buffer(RENDER_BUFFER_BYTES);
    writeError(buf, e);
    return ByteBufUtil.getBytes(buf);
  }

  /** A GET of a 256-byte value is ~350 bytes of JSON: room for it without growing the buffer. */
  private static final int RENDER_BUFFER_BYTES = 1024;

  private static void writeNode(JsonGenerator g, V2Node n) throws IOException {
    g.writeStartObject();
    if (!n.key().equals("/")) {
      g.writeStringField("key", V2Path.toText(n.key()));
    }
    if (n.value() != null) {
      g.writeStringField("value", V2Path.toText(n.value()));
    }
    if (n.dir()) {
      g.writeBooleanField("dir", true);
    }
    if (n.expireAtNanos() != 0) {
      g.writeStringField("expiration", rfc3339Nano(n.expireAtNanos()));
    }
    if (n.ttl() != 0) {
      g.writeNumberField("ttl", n.ttl());
    }
    if (n.nodes() != null && !n.nodes().isEmpty()) {
      g.writeArrayFieldStart("nodes");
      for (V2Node c : n.nodes()) {
        writeNode(g, c);
      }
      g.writeEndArray();
    }
    if (n.modifiedIndex() != 0) {
      g.writeNumberField("modifiedIndex", n.modifiedIndex());
    }
    if (n.createdIndex() != 0) {
      g.writeNumberField("createdIndex", n.createdIndex());
    }
    g.writeEndObject();
  }

  static void writeError(ByteBuf out, V2Error e) {
    try (JsonGenerator g = FACTORY.createGenerator((java.io.OutputStream) new ByteBufOutputStream(out))) {
      g.writeStartObject();
      g.writeNumberField("errorCode", e.code().code);
      g.writeStringField("message", e.code().message);
      if (!e.errorCause().isEmpty()) {
        g.writeStringField("cause", V2Path.toText(e.errorCause()));
      }
      g.writeNumberField("index", e.index());
      g.writeEndObject();
      g.writeRaw('\n');
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
  }

  /** Go's time.RFC3339Nano in UTC: fraction without trailing zeros, none when zero. */
  static String rfc3339Nano(long unixNanos) {
    long secs = Math.floorDiv(unixNanos, 1_000_000_000L);
    long nanos = Math.floorMod(unixNanos, 1_000_000_000L);
    StringBuilder sb = new StringBuilder(SECONDS.format(Instant.ofEpochSecond(secs)));
    if (nanos != 0) {
      String frac = String.format("%09d", nanos);
      int end = frac.length();
      while (frac.charAt(end - 1) == '0') {
        end--;
      }
      sb.append('.').append(frac, 0, end);
    }
    return sb.append('Z').toString();
  }

  /**
   * Go's encoding/json escapes <, >, & and U+2028/U+2029 (lowercase hex), and writes invalid
   * UTF-8 as \\ufffd.
   */
  private static final class GoEscapes extends CharacterEscapes {
    private final int[] table;

    GoEscapes() {
      table = CharacterEscapes.standardAsciiEscapesForJSON();
      table['<'] = ESCAPE_CUSTOM;
      table['>'] = ESCAPE_CUSTOM;
      table['&'] = ESCAPE_CUSTOM;
    }

    @Override
    public int[] getEscapeCodesForAscii() {
      return table;
    }

    @Override
    public SerializableString getEscapeSequence(int ch) {
      return switch (ch) {
        case '<' -> new SerializedString("\\u003c");
        case '>' -> new SerializedString("\\u003e");
        case '&' -> new SerializedString("\\u0026");
        case 0x2028 -> new SerializedString("\\u2028");
        case 0x2029 -> new SerializedString("\\u2029");
        // bytes that were not UTF-8 became U+FFFD; Go writes those as this escape
        case 0xFFFD -> new SerializedString("\\ufffd");
        default -> null;
      };
    }
  }
}
