package dev.flotilla.kv.api.v2;

import dev.flotilla.kv.api.v3.V3Gateway;
import dev.flotilla.kv.server.ApplyOutcome;
import dev.flotilla.kv.server.MemberIdentity;
import dev.flotilla.proto.store.MemberRecord;
import dev.flotilla.kv.server.StoreMember;
import dev.flotilla.kv.v2.V2Error;
import dev.flotilla.kv.v2.V2ErrorCode;
import dev.flotilla.kv.v2.V2Event;
import dev.flotilla.kv.v2.V2Path;
import dev.flotilla.kv.v2.V2WatcherHub;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.ReadOnlyHttpHeaders;
import io.netty.util.AsciiString;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes HTTP requests as etcd's Go mux does (path cleaning with 301, 404, 405) and writes
 * the v2 answers. Runs on a Netty event loop; nothing here blocks on the log: writes,
 * quorum reads and watches complete later, on the channel's loop.
 */
final class V2HttpHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
  private static final Logger log = LoggerFactory.getLogger(V2HttpHandler.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String KEYS = "/v2/keys";
  private static final String KEY_METHODS = "HEAD,GET,PUT,POST,DELETE";

  private final V2KeysService keys;
  private final StoreMember member;
  private final String clusterId;
  private final AsciiString clusterIdValue;

  private final V3Gateway gateway;

  private final V2MembersService membership;

  V2HttpHandler(V2KeysService keys, V2MembersService membership, StoreMember member, V3Gateway gateway) {
    this.gateway = gateway;
    this.membership = membership;
    this.keys = keys;
    this.member = member;
    this.clusterId = MemberIdentity.hex(member.identity().clusterId());
    this.clusterIdValue = new AsciiString(clusterId);
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
    Exchange ex = new Exchange(ctx, req.method().name(), HttpUtil.isKeepAlive(req));
    if (req.decoderResult().isFailure()) {
      ex.goBadRequest();
      return;
    }
    String uri = req.uri();
    int q = uri.indexOf('?');
    String rawPath = q < 0 ? uri : uri.substring(0, q);
    String rawQuery = q < 0 ? "" : uri.substring(q + 1);
    String path;
    try {
      path = new QueryStringDecoder(rawPath, StandardCharsets.ISO_8859_1, true).path();
    } catch (IllegalArgumentException e) {
      ex.goBadRequest(); // Go's server refuses the request line before any handler sees it
      return;
    }
    if (ex.method.equals("OPTIONS")) {
      ex.preflight(); // etcd's CORS handler answers every OPTIONS itself
      return;
    }
    String clean = muxCleanPath(path);
    if (!clean.equals(path)) {
      redirect(ex, clean, rawQuery);
      return;
    }
    try {
      if (path.equals(KEYS) || path.startsWith(KEYS + "/")) {
        ex.endpoint = "keys";
        keysRequest(ex, req, path.substring(KEYS.length()), rawQuery);
      } else if (path.equals("/version")) {
        ex.endpoint = "version";
        if (ex.allow("GET")) {
          ex.body(HttpResponseStatus.OK, "application/json",
              "{\"etcdserver\":\"3.4.23\",\"etcdcluster\":\"3.4.0\"}");
        }
      } else if (path.equals("/health")) {
        ex.endpoint = "health";
        if (ex.allow("GET")) {
          healthRequest(ex);
        }
      } else if (path.equals("/new")) {
        ex.endpoint = "discovery";
        if (ex.allow("GET", "POST")) {
          newDiscoveryToken(ex, req, rawQuery);
        }
      } else if (path.equals("/v2/members") || path.startsWith("/v2/members/")) {
        ex.endpoint = "members";
        membersRequest(ex, path, req.content().toString(StandardCharsets.UTF_8));
      } else if (path.equals("/v2/machines")) {
        ex.endpoint = "machines";
        if (ex.allow("GET", "HEAD")) {
          List<String> urls = new java.util.ArrayList<>();
          member.members().forEach(r -> urls.addAll(r.getClientUrlsList()));
          ex.body(HttpResponseStatus.OK, "text/plain; charset=utf-8", String.join(", ", urls));
        }
      } else if (path.equals("/v2/stats/self")) {
        ex.endpoint = "stats";
        if (ex.allow("GET")) {
          ex.body(HttpResponseStatus.OK, "application/json", selfStatsJson());
        }
      } else if (path.equals("/v2/stats/store")) {
        ex.endpoint = "stats";
        if (ex.allow("GET")) {
          ex.body(HttpResponseStatus.OK, "application/json",
              member.machine().v2Stats().toJson(member.machine().v2Watchers().watcherCount()));
        }
      } else if (path.equals("/v2/stats/leader")) {
        ex.endpoint = "stats";
        if (ex.allow("GET")) {
          if (member.leaderId() != member.identity().memberId()) {
            ex.body(HttpResponseStatus.FORBIDDEN, "application/json", "{\"message\":\"not current leader\"}");
          } else {
            ex.body(HttpResponseStatus.OK, "application/json", leaderStatsJson());
          }
        }
      } else if (gateway != null && V3Gateway.routeOf(path) != null) {
        ex.endpoint = "v3-gateway";
        if (ex.allowSilently("POST")) {
          gatewayRequest(ex, V3Gateway.routeOf(path), req.content().toString(StandardCharsets.UTF_8), req.headers().get("Authorization"));
        }
      } else if (path.equals("/metrics")) {
        ex.endpoint = "metrics";
        if (ex.allow("GET")) {
          ex.metrics();
        }
      } else {
        ex.text(HttpResponseStatus.NOT_FOUND, "404 page not found", false);
      }
    } catch (RuntimeException e) {
      log.error("request {} {} failed: {}", req.method(), uri, e.toString(), e);
      ex.error(new V2Error(V2ErrorCode.RAFT_INTERNAL, e.toString(), 0));
    }
  }

  /**
   * etcd's /health: true when a leader is known and a quorum read goes through in time (etcd 3.4
   * does a quorum GET); 503 with "false" otherwise.
   */
  private void healthRequest(Exchange ex) {
    if (member.leaderId() == 0) {
      ex.body(HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain; charset=utf-8", "{\"health\":\"false\"}");
      return;
    }
    member.log().readBarrier().orTimeout(2, java.util.concurrent.TimeUnit.SECONDS).whenComplete((v, err) ->
        ex.ctx.executor().execute(() -> {
          if (err == null) {
            ex.body(HttpResponseStatus.OK, "text/plain; charset=utf-8", "{\"health\":\"true\"}");
          } else {
            ex.body(HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain; charset=utf-8", "{\"health\":\"false\"}");
          }
        }));
  }

  /**
   * A discovery service as discovery.etcd.io ran one: {@code /new?size=N} (default 3) makes a
   * token directory in this store's own v2 keyspace with {@code _config/size} set, and answers
   * its URL, which members pass as {@code --discovery}.
   */
  private void newDiscoveryToken(Exchange ex, FullHttpRequest req, String rawQuery) {
    String size = new QueryStringDecoder("?" + (rawQuery == null ? "" : rawQuery)).parameters()
        .getOrDefault("size", List.of("3")).get(0);
    int n;
    try {
      n = Integer.parseInt(size);
    } catch (NumberFormatException e) {
      n = -1;
    }
    if (n < 1 || n > 99) {
      ex.body(HttpResponseStatus.BAD_REQUEST, "text/plain; charset=utf-8", "size must be a number from 1 to 99, got '"
          + size + "'\n");
      return;
    }
    byte[] raw = new byte[16];
    new java.security.SecureRandom().nextBytes(raw);
    String token = java.util.HexFormat.of().formatHex(raw);
    String dir = "/_etcd/registry/" + token;
    var write = dev.flotilla.proto.store.V2Write.newBuilder().setMethod(dev.flotilla.proto.store.V2Method.V2_PUT)
        .setPath(dir + "/_config/size").setValue(Integer.toString(n)).setNowUnixNanos(member.nowNanos()).build();
    String host = req.headers().get("Host", "127.0.0.1");
    member.log().propose(dev.flotilla.proto.store.StoreCommand.newBuilder().setV2Write(write).build().toByteArray())
        .whenComplete((o, err) -> ex.ctx.executor().execute(() -> {
          if (err != null) {
            ex.failure(err);
          } else {
            ex.body(HttpResponseStatus.OK, "text/plain; charset=utf-8",
                (ex.ctx.pipeline().get(io.netty.handler.ssl.SslHandler.class) != null ? "https://" : "http://")
                + host + "/v2/keys" + dir);
          }
        }));
  }

  /** etcd's v2 members API, one member: list, leader; changes need replication. */
  private void membersRequest(Exchange ex, String path, String body) {
    String rest = path.substring("/v2/members".length());
    if (!ex.allow("GET", "POST", "DELETE", "PUT")) {
      return;
    }
    if (rest.isEmpty() || rest.equals("/")) {
      switch (ex.method) {
        case "GET" -> ex.membersBody(HttpResponseStatus.OK, membersJson() + "\n");
        case "DELETE" -> ex.membersNoAllow(); // etcd: DELETE needs a member id, 405 without Allow
        case "POST" -> membershipChange(ex, "POST", "", body);
        default -> ex.membersNoAllow(); // PUT needs a member id
      }
      return;
    }
    String id = rest.substring(1);
    if (ex.method.equals("GET") && id.equals("leader")) {
      MemberRecord lead = leaderRecord();
      if (lead == null) {
        ex.membersBody(HttpResponseStatus.SERVICE_UNAVAILABLE, "{\"message\":\"During election\"}");
      } else {
        ex.membersBody(HttpResponseStatus.OK, V2MembersService.memberJson(lead).toString() + "\n");
      }
    } else if (ex.method.equals("GET")) {
      ex.membersBody(HttpResponseStatus.NOT_FOUND, "{\"message\":\"Not found\"}");
    } else if (ex.method.equals("POST")) {
      ex.membersNoAllow();
    } else {
      membershipChange(ex, ex.method, id, body);
    }
  }

  private void membershipChange(Exchange ex, String method, String id, String body) {
    membership.change(method, id, body).whenComplete((a, err) -> ex.ctx.executor().execute(() -> {
      if (err != null) {
        ex.membersBody(HttpResponseStatus.INTERNAL_SERVER_ERROR,
            JSON.createObjectNode().put("message", String.valueOf(err.getMessage())).toString());
      } else if (a.status() == 204) {
        ex.membersEmpty();
      } else {
        ex.membersBody(HttpResponseStatus.valueOf(a.status()), a.body());
      }
    }));
  }

  private void gatewayRequest(Exchange ex, String route, String body, String token) {
    ChannelHandlerContext ctx = ex.ctx;
    if (!gateway.isStream(route)) {
      gateway.unary(route, body, token).whenCompleteAsync((a, err) -> {
        FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
            HttpResponseStatus.valueOf(a.status()), Unpooled.copiedBuffer(a.json(), StandardCharsets.UTF_8));
        resp.headers().set("Content-Type", a.contentType());
        if (a.contentType().startsWith("text/plain")) {
          resp.headers().set("X-Content-Type-Options", "nosniff");
        }
        ex.send(resp, false);
      }, ctx.executor());
      return;
    }
    Runnable cancel = gateway.stream(route, body, new V3Gateway.StreamSink() {
      @Override
      public void start() {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set("Content-Type", "application/json")
            .set("Date", HttpDate.now())
            .set("Transfer-Encoding", HttpHeaderValues.CHUNKED);
        cors(head.headers());
        ctx.writeAndFlush(head);
        member.metrics().request("v3-gateway", ex.method, 200, System.nanoTime() - ex.start);
      }

      @Override
      public void chunk(String json) {
        ctx.executor().execute(() -> {
          if (ctx.channel().isActive()) {
            ctx.writeAndFlush(new DefaultHttpContent(
                Unpooled.copiedBuffer(json + "\n", StandardCharsets.UTF_8)));
          }
        });
      }

      @Override
      public void end() {
        ctx.executor().execute(() -> {
          if (ctx.channel().isActive()) {
            var done = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
            if (!ex.keepAlive) {
              done.addListener(ChannelFutureListener.CLOSE);
            }
          }
        });
      }
    }, token);
    ctx.channel().closeFuture().addListener(f -> cancel.run());
  }

  private void keysRequest(Exchange ex, FullHttpRequest req, String keyPath, String rawQuery) {
    if (!ex.allow("HEAD", "GET", "PUT", "POST", "DELETE")) {
      return;
    }
    String method = ex.method;
    V2KeyRequest r;
    try {
      String body = null;
      if ((method.equals("POST") || method.equals("PUT") || method.equals("PATCH")) && isForm(req)) {
        body = req.content().toString(StandardCharsets.ISO_8859_1);
      }
      r = V2KeyRequest.parse(method, keyPath, V2Form.parse(rawQuery, body));
    } catch (V2Error e) {
      ex.error(e);
      return;
    }
    V2Access access = keys.access();
    if (!access.enabled()) {
      serveKeys(ex, r, null);
      return;
    }
    access.authenticate(req.headers().get("Authorization")).whenCompleteAsync((user, err) -> {
      if (err != null) {
        ex.failure(err);
        return;
      }
      boolean read = method.equals("GET") || method.equals("HEAD");
      boolean subtree = read ? r.recursive() : method.equals("POST") || (method.equals("DELETE") && (r.dir() || r.recursive()));
      if (!access.permits(user, r.path(), !read, subtree)) {
        ex.error(V2Access.denied());
        return;
      }
      serveKeys(ex, r, user);
    }, ex.ctx.executor());
  }

  /** A directory listed to a user who may not read below it is refused (see {@link V2Access}). */
  private V2Event listable(V2Event ev, V2KeyRequest r, String user) throws V2Error {
    if (user != null && ev.node() != null && ev.node().dir() && !r.recursive()
        && !keys.access().permits(user, r.path(), false, true)) {
      throw V2Access.denied();
    }
    return ev;
  }

  /** Serves a parsed keys request; {@code user}: who it is for once auth let it through, null with auth off. */
  private void serveKeys(Exchange ex, V2KeyRequest r, String user) {
    String method = ex.method;
    try {
      switch (method) {
        case "GET", "HEAD" -> {
          if (r.quorum()) {
            keys.quorumGet(r).whenCompleteAsync((ev, err) -> {
              if (err != null) {
                ex.failure(err);
              } else {
                try {
                  ex.event(listable(ev, r, user), false);
                } catch (V2Error e) {
                  ex.error(e);
                }
              }
            }, ex.ctx.executor());
          } else if (r.waitFor() && !ex.head) {
            startWatch(ex, r);
          } else if (user == null) {
            ex.answer(keys.renderedGet(r));
          } else {
            ex.event(listable(keys.get(r), r, user), false); // what a user may see is not cached
          }
        }
        default -> keys.write(r).whenCompleteAsync((outcome, err) -> {
          if (err != null) {
            ex.failure(err);
          } else if (outcome instanceof ApplyOutcome.V2Done d) {
            ex.event(d.event(), r.noValueOnSuccess());
          } else if (outcome instanceof ApplyOutcome.V2Failed f) {
            ex.error(f.error());
          }
        }, ex.ctx.executor());
      }
    } catch (V2Error e) {
      ex.error(e);
    }
  }

  private void startWatch(Exchange ex, V2KeyRequest r) throws V2Error {
    ChannelHandlerContext ctx = ex.ctx;
    var sink = new WatchSink(ctx, r.stream(), ex.keepAlive);
    V2WatcherHub.Watcher w = keys.watch(r, sink);
    HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    head.headers().set("Content-Type", "application/json")
        .set("X-Etcd-Cluster-Id", clusterId)
        .set("X-Etcd-Index", w.startIndex())
        .set("X-Raft-Index", member.log().committedIndex())
        .set("X-Raft-Term", member.log().term())
        .set("Date", HttpDate.now())
        .set("Transfer-Encoding", HttpHeaderValues.CHUNKED);
    cors(head.headers());
    ctx.writeAndFlush(head);
    member.metrics().request("watch", ex.method, 200, System.nanoTime() - ex.start);
    ctx.channel().closeFuture().addListener(f -> w.cancel());
  }

  /** Delivers watch events on the channel's loop; the hub calls it under its lock. */
  private static final class WatchSink implements V2WatcherHub.Sink {
    private final ChannelHandlerContext ctx;
    private final boolean stream;
    private final boolean keepAlive;

    WatchSink(ChannelHandlerContext ctx, boolean stream, boolean keepAlive) {
      this.ctx = ctx;
      this.stream = stream;
      this.keepAlive = keepAlive;
    }

    @Override
    public void deliver(V2Event event) {
      ctx.executor().execute(() -> {
        if (!ctx.channel().isActive()) {
          return;
        }
        ByteBuf buf = ctx.alloc().buffer();
        V2Json.writeEvent(buf, event, false);
        ctx.write(new DefaultHttpContent(buf));
        if (stream) {
          ctx.flush();
        } else {
          var done = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
          if (!keepAlive) {
            done.addListener(ChannelFutureListener.CLOSE);
          }
        }
      });
    }
  }

  /** One request and its answer: how it is written, counted and timed. */
  private final class Exchange {
    final ChannelHandlerContext ctx;
    final String method;
    final boolean keepAlive;
    final boolean head;
    final long start = System.nanoTime();
    String endpoint = "other";

    Exchange(ChannelHandlerContext ctx, String method, boolean keepAlive) {
      this.ctx = ctx;
      this.method = method;
      this.keepAlive = keepAlive;
      this.head = method.equals("HEAD");
    }

    /** Like {@link #allow} but the 405 names no Allow header (grpc-gateway sends none). */
    boolean allowSilently(String method) {
      if (method.equals(this.method)) {
        return true;
      }
      send(textResponse(HttpResponseStatus.METHOD_NOT_ALLOWED, "Method Not Allowed"), false);
      return false;
    }

    boolean allow(String... methods) {
      for (String allowed : methods) {
        if (allowed.equals(method)) {
          return true;
        }
      }
      FullHttpResponse resp = textResponse(HttpResponseStatus.METHOD_NOT_ALLOWED, "Method Not Allowed");
      resp.headers().set("Allow", String.join(",", methods));
      send(resp, false);
      return false;
    }

    void event(V2Event e, boolean noValue) {
      boolean hideNodes = noValue && (e.action().equals(V2Event.SET) || e.action().equals(V2Event.CREATE)
          || e.action().equals(V2Event.UPDATE) || e.action().equals(V2Event.COMPARE_AND_SWAP));
      ByteBuf buf = ctx.alloc().buffer(JSON_BUFFER_BYTES);
      V2Json.writeEvent(buf, e, hideNodes);
      sendJson(e.isCreated() ? HttpResponseStatus.CREATED : HttpResponseStatus.OK, buf, e.etcdIndex(), true);
    }

    /** A rendered keys answer: the body is shared (a cached one is), so it is wrapped, not copied. */
    void answer(V2ReadCache.Answer a) {
      sendJson(a.status(), Unpooled.wrappedBuffer(a.body()), a.etcdIndex(), a.isEvent());
    }

    void failure(Throwable err) {
      Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
      if (cause instanceof V2Error v) {
        error(v);
      } else {
        error(new V2Error(V2ErrorCode.RAFT_INTERNAL, String.valueOf(cause.getMessage()), 0));
      }
    }

    void error(V2Error e) {
      ByteBuf buf = ctx.alloc().buffer(JSON_BUFFER_BYTES);
      V2Json.writeError(buf, e);
      sendJson(HttpResponseStatus.valueOf(e.httpStatus()), buf, e.index(), false);
    }

    /**
     * A keys answer (event or error) with the headers {@link #send} would give it, in the same
     * order: Content-Type, X-Etcd-Cluster-Id, X-Etcd-Index, with {@code raft} X-Raft-Index and
     * X-Raft-Term, CORS, Content-Length, Date, and Connection when closing. Every name and value
     * is ours (numbers, the cluster ID, constants), so the headers are one flat read-only list:
     * Netty's validating, hashed headers map cost ~6% of a GET's event-loop time to fill.
     */
    private void sendJson(HttpResponseStatus status, ByteBuf body, long etcdIndex, boolean raft) {
      CharSequence[] h = new CharSequence[(raft ? 20 : 16) + (keepAlive ? 0 : 2)];
      int i = 0;
      h[i++] = CONTENT_TYPE;
      h[i++] = APPLICATION_JSON;
      h[i++] = ETCD_CLUSTER_ID;
      h[i++] = clusterIdValue;
      h[i++] = ETCD_INDEX;
      h[i++] = Long.toString(etcdIndex);
      if (raft) {
        h[i++] = RAFT_INDEX;
        h[i++] = Long.toString(member.log().committedIndex());
        h[i++] = RAFT_TERM;
        h[i++] = Long.toString(member.log().term());
      }
      h[i++] = CORS_ORIGIN;
      h[i++] = CORS_ORIGIN_VALUE;
      h[i++] = CORS_METHODS;
      h[i++] = CORS_METHODS_VALUE;
      h[i++] = CORS_HEADERS;
      h[i++] = CORS_HEADERS_VALUE;
      h[i++] = CONTENT_LENGTH;
      h[i++] = Integer.toString(body.readableBytes());
      h[i++] = DATE;
      h[i++] = HttpDate.now();
      if (!keepAlive) {
        h[i++] = CONNECTION;
        h[i] = HttpHeaderValues.CLOSE;
      }
      write(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body, new ReadOnlyHttpHeaders(false, h),
          EmptyHttpHeaders.INSTANCE), keepAlive);
    }

    /** A body exactly as given (etcd's non-keys endpoints write no trailing newline). */
    void body(HttpResponseStatus status, String contentType, String body) {
      FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
          Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
      resp.headers().set("Content-Type", contentType);
      send(resp, false);
    }

    void membersBody(HttpResponseStatus status, String body) {
      FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
          Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
      resp.headers().set("Content-Type", "application/json").set("X-Etcd-Cluster-Id", clusterId);
      send(resp, false);
    }

    void membersEmpty() {
      FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT);
      resp.headers().set("X-Etcd-Cluster-Id", clusterId);
      send(resp, false);
    }

    void membersNoAllow() {
      FullHttpResponse resp = textResponse(HttpResponseStatus.METHOD_NOT_ALLOWED, "Method Not Allowed");
      resp.headers().set("X-Etcd-Cluster-Id", clusterId);
      send(resp, false);
    }

    /** CORS preflight: 200, no body, no Content-Type. */
    void preflight() {
      send(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK), false);
    }

    /** Go's own answer to a request it cannot parse: no CORS headers, connection closed. */
    void goBadRequest() {
      FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
          HttpResponseStatus.BAD_REQUEST, Unpooled.copiedBuffer("400 Bad Request", StandardCharsets.UTF_8));
      resp.headers().set("Content-Type", "text/plain; charset=utf-8")
          .set("Content-Length", resp.content().readableBytes())
          .set("Connection", "close");
      member.metrics().request(endpoint, method, 400, System.nanoTime() - start);
      ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
    }

    void text(HttpResponseStatus status, String text, boolean close) {
      send(textResponse(status, text), close);
    }

    void metrics() {
      ByteBuf buf = ctx.alloc().buffer();
      try (var out = new ByteBufOutputStream(buf)) {
        member.metrics().writeTo(out);
      } catch (java.io.IOException e) {
        buf.release();
        throw new java.io.UncheckedIOException(e);
      }
      FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, buf);
      resp.headers().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      send(resp, false);
    }

    void send(FullHttpResponse resp, boolean close) {
      HttpHeaders h = resp.headers();
      cors(h);
      h.set("Content-Length", resp.content().readableBytes());
      h.set("Date", HttpDate.now());
      boolean keep = keepAlive && !close;
      if (!keep) {
        h.set("Connection", HttpHeaderValues.CLOSE);
      }
      write(resp, keep);
    }

    /**
     * Sends an answer whose headers are all set (Content-Length counts the body: a HEAD's is
     * dropped here), counts it in the metrics, and closes the connection after it unless {@code keep}.
     */
    private void write(FullHttpResponse resp, boolean keep) {
      if (head) {
        resp.content().clear();
      }
      member.metrics().request(endpoint, method, resp.status().code(), System.nanoTime() - start);
      if (keep) {
        ctx.writeAndFlush(resp, ctx.voidPromise());
      } else {
        ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
      }
    }
  }

  /** etcd wraps every handler in CORS headers allowing any origin. */
  static void cors(HttpHeaders h) {
    h.set(CORS_ORIGIN, CORS_ORIGIN_VALUE)
        .set(CORS_METHODS, CORS_METHODS_VALUE)
        .set(CORS_HEADERS, CORS_HEADERS_VALUE);
  }

  // header names as this server has always spelled them on the wire (Netty's constants are lower case)
  private static final AsciiString CONTENT_TYPE = AsciiString.cached("Content-Type");
  private static final AsciiString CONTENT_LENGTH = AsciiString.cached("Content-Length");
  private static final AsciiString DATE = AsciiString.cached("Date");
  private static final AsciiString CONNECTION = AsciiString.cached("Connection");
  private static final AsciiString ETCD_CLUSTER_ID = AsciiString.cached("X-Etcd-Cluster-Id");
  private static final AsciiString ETCD_INDEX = AsciiString.cached("X-Etcd-Index");
  private static final AsciiString RAFT_INDEX = AsciiString.cached("X-Raft-Index");
  private static final AsciiString RAFT_TERM = AsciiString.cached("X-Raft-Term");
  private static final AsciiString APPLICATION_JSON = AsciiString.cached("application/json");
  private static final AsciiString CORS_ORIGIN = AsciiString.cached("Access-Control-Allow-Origin");
  private static final AsciiString CORS_ORIGIN_VALUE = AsciiString.cached("*");
  private static final AsciiString CORS_METHODS = AsciiString.cached("Access-Control-Allow-Methods");
  private static final AsciiString CORS_METHODS_VALUE = AsciiString.cached("POST, GET, OPTIONS, PUT, DELETE");
  private static final AsciiString CORS_HEADERS = AsciiString.cached("Access-Control-Allow-Headers");
  private static final AsciiString CORS_HEADERS_VALUE = AsciiString.cached("accept, content-type, authorization");
  /** A GET of a 256-byte value is ~350 bytes of JSON: room for it without growing the buffer. */
  private static final int JSON_BUFFER_BYTES = 1024;

  private void redirect(Exchange ex, String clean, String rawQuery) {
    String location = escapePath(clean) + (rawQuery.isEmpty() ? "" : "?" + rawQuery);
    String body = ex.method.equals("GET")
        ? "<a href=\"" + htmlEscape(location) + "\">Moved Permanently</a>.\n\n" : "";
    FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
        HttpResponseStatus.MOVED_PERMANENTLY, Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
    resp.headers().set("Location", location);
    if (!body.isEmpty()) {
      resp.headers().set("Content-Type", "text/html; charset=utf-8");
    }
    ex.send(resp, false);
  }

  private static FullHttpResponse textResponse(HttpResponseStatus status, String text) {
    FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
        Unpooled.copiedBuffer(text + "\n", StandardCharsets.UTF_8));
    resp.headers().set("Content-Type", "text/plain; charset=utf-8")
        .set("X-Content-Type-Options", "nosniff");
    return resp;
  }

  private String membersJson() {
    ObjectNode root = JSON.createObjectNode();
    ArrayNode members = root.putArray("members");
    for (MemberRecord r : member.members()) {
      members.add(V2MembersService.memberJson(r));
    }
    return root.toString();
  }

  /** The leader's record, or null when no leader is known. */
  private MemberRecord leaderRecord() {
    long lead = member.leaderId();
    for (MemberRecord r : member.members()) {
      if (r.getId() == lead) {
        return r;
      }
    }
    return null;
  }

  /** etcd's leader stats: the followers, by member ID (latency and counts are not tracked yet). */
  private String leaderStatsJson() {
    ObjectNode s = JSON.createObjectNode();
    s.put("leader", MemberIdentity.hex(member.identity().memberId()));
    ObjectNode followers = s.putObject("followers");
    for (MemberRecord r : member.members()) {
      if (r.getId() != member.identity().memberId()) {
        followers.putObject(MemberIdentity.hex(r.getId()));
      }
    }
    return s.toString();
  }

  private String selfStatsJson() {
    MemberIdentity id = member.identity();
    String start = Instant.ofEpochMilli(member.startedAtMillis()).toString();
    double uptime = (System.currentTimeMillis() - member.startedAtMillis()) / 1000.0;
    ObjectNode s = JSON.createObjectNode();
    s.put("name", id.name());
    s.put("id", MemberIdentity.hex(id.memberId()));
    boolean leading = member.leaderId() == id.memberId();
    s.put("state", leading ? "StateLeader" : "StateFollower");
    s.put("startTime", start);
    ObjectNode leader = s.putObject("leaderInfo");
    leader.put("leader", member.leaderId() == 0 ? "" : MemberIdentity.hex(member.leaderId()));
    leader.put("uptime", uptime + "s");
    leader.put("startTime", start);
    s.put("recvAppendRequestCnt", 0);
    s.put("sendAppendRequestCnt", 0);
    return s.toString();
  }

  private static boolean isForm(FullHttpRequest req) {
    String ct = req.headers().get("Content-Type");
    if (ct == null) {
      return false;
    }
    int semi = ct.indexOf(';');
    String base = (semi < 0 ? ct : ct.substring(0, semi)).trim();
    return base.equalsIgnoreCase("application/x-www-form-urlencoded");
  }

  /** Go's ServeMux cleanPath: path.Clean, keeping a trailing slash. */
  static String muxCleanPath(String p) {
    if (p.isEmpty()) {
      return "/";
    }
    if (p.charAt(0) != '/') {
      p = "/" + p;
    }
    String np = V2Path.clean(p);
    if (p.endsWith("/") && !np.equals("/")) {
      np = np + "/";
    }
    return np;
  }

  /** Escapes a byte-string path for a Location header as Go's URL.EscapedPath does. */
  static String escapePath(String byteString) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < byteString.length(); i++) {
      char c = byteString.charAt(i);
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || "-._~!$&'()*+,;=:@/".indexOf(c) >= 0) {
        sb.append(c);
      } else {
        sb.append('%').append(String.format("%02X", (int) c & 0xff));
      }
    }
    return sb.toString();
  }

  private static String htmlEscape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace("\"", "&#34;").replace("'", "&#39;");
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("client connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
    ctx.close();
  }
}
