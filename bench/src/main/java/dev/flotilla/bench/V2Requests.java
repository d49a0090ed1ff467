package dev.flotilla.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/**
 * Request templates for one workload, built once: the URI of every key, one shared header block
 * and one shared body. Making a request is then an object allocation and a buffer duplicate; the
 * bytes are still framed by Netty's {@code HttpClientCodec}.
 */
final class V2Requests {
    static final String KEY_PREFIX = "/v2/keys/bench/k";

    private final HttpMethod method;
    private final String[] uris;
    private final HttpHeaders headers;
    private final ByteBuf body;

    private V2Requests(HttpMethod method, String[] uris, HttpHeaders headers, ByteBuf body) {
        this.method = method;
        this.uris = uris;
        this.headers = headers;
        this.body = body;
    }

    static V2Requests of(Workload workload, String hostHeader, int keys, int valueSize) {
        String query = workload == Workload.QGET ? "?quorum=true" : "";
        String[] uris = new String[keys];
        for (int k = 0; k < keys; k++) {
            uris[k] = KEY_PREFIX + k + query;
        }
        // Read-only after construction, so every event loop may share it.
        HttpHeaders headers = new DefaultHttpHeaders();
        headers.set(HttpHeaderNames.HOST, hostHeader);
        ByteBuf body = Unpooled.EMPTY_BUFFER;
        if (workload == Workload.PUT) {
            byte[] form = formBody(valueSize);
            // Unreleasable: the encoder releases each request, the template must outlive them all.
            body = Unpooled.unreleasableBuffer(Unpooled.directBuffer(form.length).writeBytes(form));
            headers.set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_X_WWW_FORM_URLENCODED);
            headers.set(HttpHeaderNames.CONTENT_LENGTH, form.length);
        }
        HttpMethod method = workload == Workload.PUT ? HttpMethod.PUT : HttpMethod.GET;
        return new V2Requests(method, uris, headers, body);
    }

    /** {@code value=} followed by {@code valueSize} URL-safe bytes, so no form encoding is needed. */
    static byte[] formBody(int valueSize) {
        StringBuilder sb = new StringBuilder("value=".length() + valueSize).append("value=");
        for (int i = 0; i < valueSize; i++) {
            sb.append((char) ('a' + i % 26));
        }
        return sb.toString().getBytes(StandardCharsets.US_ASCII);
    }

    int keys() {
        return uris.length;
    }

    FullHttpRequest forKey(int key) {
        return new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uris[key], body.duplicate(),
                headers, EmptyHttpHeaders.INSTANCE);
    }
}
