package dev.flotilla.kv.api.v3;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Descriptors;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.flotilla.proto.etcd.etcdserverpb.AlarmRequest;
import dev.flotilla.proto.etcd.etcdserverpb.*;
import dev.flotilla.proto.etcd.etcdserverpb.CompactionRequest;
import dev.flotilla.proto.etcd.etcdserverpb.DeleteRangeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseGrantRequest;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseKeepAliveRequest;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseKeepAliveResponse;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseLeasesRequest;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseRevokeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseTimeToLiveRequest;
import dev.flotilla.proto.etcd.etcdserverpb.DefragmentRequest;
import dev.flotilla.proto.etcd.etcdserverpb.HashRequest;
import dev.flotilla.proto.etcd.etcdserverpb.MemberAddRequest;
import dev.flotilla.proto.etcd.etcdserverpb.MemberListRequest;
import dev.flotilla.proto.etcd.etcdserverpb.MemberPromoteRequest;
import dev.flotilla.proto.etcd.etcdserverpb.MemberRemoveRequest;
import dev.flotilla.proto.etcd.etcdserverpb.MemberUpdateRequest;
import dev.flotilla.proto.etcd.etcdserverpb.MoveLeaderRequest;
import dev.flotilla.proto.etcd.etcdserverpb.PutRequest;
import dev.flotilla.proto.etcd.etcdserverpb.RangeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.StatusRequest;
import dev.flotilla.proto.etcd.etcdserverpb.TxnRequest;
import dev.flotilla.proto.etcd.etcdserverpb.WatchRequest;
import dev.flotilla.proto.etcd.etcdserverpb.WatchResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;

/**
 * The gRPC-gateway JSON API that etcd 3.4 serves beside gRPC: {@code POST /v3/...} (and the
 * {@code /v3beta/} alias) with a JSON body, answered in JSON with proto field names, 64-bit
 * integers as strings, bytes as base64 and zero values left out; errors as
 * {@code {"error","message","code"}}; streams as one {@code {"result":...}} line per message.
 * It calls the same service code as gRPC.
 */
public final class V3Gateway {
  private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * A finished unary answer: HTTP status, body and its content type (JSON, except grpc-gateway's
   * plain-text "Not Found" for a path it does not route).
   */
  public record Answer(int status, String json, String contentType) {
    public Answer(int status, String json) {
      this(status, json, "application/json");
    }
  }

  /** grpc-gateway's answer to a path under /v3 that names no call. */
  static final Answer NOT_FOUND = new Answer(404, "Not Found\n", "text/plain; charset=utf-8");

  /** Where a streaming answer goes: chunks after the headers, until the client leaves. */
  public interface StreamSink {
    void start();

    void chunk(String json);

    void end();
  }

  private record Route(Message prototype, BiConsumer<Message, StreamObserver<Message>> call) {}

  private final Map<String, Route> routes = new HashMap<>();
  private final WatchService watch;
  private final LeaseService lease;

  @SuppressWarnings("unchecked")
  private static <Q extends Message, R extends Message> BiConsumer<Message, StreamObserver<Message>> adapt(
      BiConsumer<Q, StreamObserver<R>> m) {
    return (q, out) -> m.accept((Q) q, (StreamObserver<R>) (StreamObserver<?>) out);
  }

  private final dev.flotilla.kv.auth.AuthStore authStore;

  /** Calls only root may make (the same as {@link AuthInterceptor}'s over gRPC). */
  private static final java.util.Set<String> ADMIN_ROUTES = java.util.Set.of("/cluster/member/add",
      "/cluster/member/remove", "/cluster/member/update", "/cluster/member/promote", "/maintenance/hash",
      "/maintenance/defragment", "/maintenance/transfer-leadership");

  V3Gateway(KvService kv, LeaseService lease, ClusterService cluster, MaintenanceService maintenance,
      WatchService watch, AuthService auth, dev.flotilla.kv.auth.AuthStore authStore) {
    this.watch = watch;
    this.lease = lease;
    this.authStore = authStore;
    route("/auth/enable", AuthEnableRequest.getDefaultInstance(), adapt(auth::authEnable));
    route("/auth/disable", AuthDisableRequest.getDefaultInstance(), adapt(auth::authDisable));
    route("/auth/authenticate", AuthenticateRequest.getDefaultInstance(), adapt(auth::authenticate));
    route("/auth/user/add", AuthUserAddRequest.getDefaultInstance(), adapt(auth::userAdd));
    route("/auth/user/get", AuthUserGetRequest.getDefaultInstance(), adapt(auth::userGet));
    route("/auth/user/list", AuthUserListRequest.getDefaultInstance(), adapt(auth::userList));
    route("/auth/user/delete", AuthUserDeleteRequest.getDefaultInstance(), adapt(auth::userDelete));
    route("/auth/user/changepw", AuthUserChangePasswordRequest.getDefaultInstance(), adapt(auth::userChangePassword));
    route("/auth/user/grant", AuthUserGrantRoleRequest.getDefaultInstance(), adapt(auth::userGrantRole));
    route("/auth/user/revoke", AuthUserRevokeRoleRequest.getDefaultInstance(), adapt(auth::userRevokeRole));
    route("/auth/role/add", AuthRoleAddRequest.getDefaultInstance(), adapt(auth::roleAdd));
    route("/auth/role/get", AuthRoleGetRequest.getDefaultInstance(), adapt(auth::roleGet));
    route("/auth/role/list", AuthRoleListRequest.getDefaultInstance(), adapt(auth::roleList));
    route("/auth/role/delete", AuthRoleDeleteRequest.getDefaultInstance(), adapt(auth::roleDelete));
    route("/auth/role/grant", AuthRoleGrantPermissionRequest.getDefaultInstance(), adapt(auth::roleGrantPermission));
    route("/auth/role/revoke", AuthRoleRevokePermissionRequest.getDefaultInstance(), adapt(auth::roleRevokePermission));
    route("/kv/range", RangeRequest.getDefaultInstance(), adapt(kv::range));
    route("/kv/put", PutRequest.getDefaultInstance(), adapt(kv::put));
    route("/kv/deleterange", DeleteRangeRequest.getDefaultInstance(), adapt(kv::deleteRange));
    route("/kv/txn", TxnRequest.getDefaultInstance(), adapt(kv::txn));
    route("/kv/compaction", CompactionRequest.getDefaultInstance(), adapt(kv::compact));
    route("/lease/grant", LeaseGrantRequest.getDefaultInstance(), adapt(lease::leaseGrant));
    route("/lease/revoke", LeaseRevokeRequest.getDefaultInstance(), adapt(lease::leaseRevoke));
    route("/kv/lease/revoke", LeaseRevokeRequest.getDefaultInstance(), adapt(lease::leaseRevoke));
    route("/lease/timetolive", LeaseTimeToLiveRequest.getDefaultInstance(), adapt(lease::leaseTimeToLive));
    route("/kv/lease/timetolive", LeaseTimeToLiveRequest.getDefaultInstance(), adapt(lease::leaseTimeToLive));
    route("/lease/leases", LeaseLeasesRequest.getDefaultInstance(), adapt(lease::leaseLeases));
    route("/kv/lease/leases", LeaseLeasesRequest.getDefaultInstance(), adapt(lease::leaseLeases));
    route("/cluster/member/list", MemberListRequest.getDefaultInstance(), adapt(cluster::memberList));
    route("/maintenance/status", StatusRequest.getDefaultInstance(), adapt(maintenance::status));
    route("/maintenance/alarm", AlarmRequest.getDefaultInstance(), adapt(maintenance::alarm));
    route("/cluster/member/add", MemberAddRequest.getDefaultInstance(), adapt(cluster::memberAdd));
    route("/cluster/member/remove", MemberRemoveRequest.getDefaultInstance(), adapt(cluster::memberRemove));
    route("/cluster/member/update", MemberUpdateRequest.getDefaultInstance(), adapt(cluster::memberUpdate));
    route("/cluster/member/promote", MemberPromoteRequest.getDefaultInstance(), adapt(cluster::memberPromote));
    // etcd 3.4 maps Hash and HashKV to the same path; its gateway answers Hash there
    route("/maintenance/hash", HashRequest.getDefaultInstance(), adapt(maintenance::hash));
    route("/maintenance/defragment", DefragmentRequest.getDefaultInstance(), adapt(maintenance::defragment));
    route("/maintenance/transfer-leadership", MoveLeaderRequest.getDefaultInstance(), adapt(maintenance::moveLeader));
  }

  private void route(String path, Message prototype, BiConsumer<Message, StreamObserver<Message>> call) {
    routes.put(path, new Route(prototype, call));
  }

  /** The route under /v3 or /v3beta, or null when the path is not the gateway's. */
  public static String routeOf(String path) {
    if (path.startsWith("/v3/")) {
      return path.substring(3);
    }
    if (path.startsWith("/v3beta/")) {
      return path.substring(7);
    }
    return null;
  }

  public boolean isStream(String route) {
    return route.equals("/watch") || route.equals("/lease/keepalive");
  }

  /** A unary call: completes with the JSON answer (or the gateway's JSON error). */
  public CompletableFuture<Answer> unary(String route, String body) {
    return unary(route, body, null);
  }

  /**
   * The call's gRPC context as {@link AuthInterceptor} would make it from {@code token} (the
   * request's Authorization header, as etcd's gateway passes it on); throws the refusal.
   */
  private io.grpc.Context callerContext(String route, String token) throws StatusRuntimeException {
    AuthContext caller = AuthContext.ANONYMOUS;
    if (token != null && !route.equals("/auth/authenticate")) {
      var user = authStore.tokens().user(token);
      if (user.isEmpty()) {
        throw V3Status.of(dev.flotilla.kv.auth.AuthErrors.invalidAuthToken());
      }
      caller = new AuthContext(user.get(), token);
    }
    if (ADMIN_ROUTES.contains(route)) {
      try {
        authStore.checkAdmin(caller.user());
      } catch (dev.flotilla.kv.v3.V3Error e) {
        throw V3Status.of(e);
      }
    }
    return io.grpc.Context.current().withValue(AuthContext.KEY, caller);
  }

  /** As {@link #unary(String, String)}, as the holder of {@code token} (null: none given). */
  public CompletableFuture<Answer> unary(String route, String body, String token) {
    CompletableFuture<Answer> f = new CompletableFuture<>();
    Route r = routes.get(route);
    if (r == null) {
      f.complete(NOT_FOUND);
      return f;
    }
    io.grpc.Context ctx;
    try {
      ctx = callerContext(route, token);
    } catch (StatusRuntimeException e) {
      f.complete(error(e));
      return f;
    }
    Message req;
    try {
      req = parse(r.prototype, body);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      f.complete(error(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException()));
      return f;
    }
    ctx.run(() -> r.call.accept(req, new StreamObserver<>() {
      @Override
      public void onNext(Message m) {
        f.complete(new Answer(200, print(m)));
      }

      @Override
      public void onError(Throwable t) {
        f.complete(error(t));
      }

      @Override
      public void onCompleted() {
        // the answer came with onNext
      }
    }));
    return f;
  }

  /**
   * A streaming call: every JSON object in the body is one request; answers stream until the
   * client goes away. Returns what to call when it does.
   */
  public Runnable stream(String route, String body, StreamSink sink) {
    return stream(route, body, sink, null);
  }

  /** As {@link #stream(String, String, StreamSink)}, as the holder of {@code token} (null: none given). */
  public Runnable stream(String route, String body, StreamSink sink, String token) {
    io.grpc.Context ctx;
    try {
      ctx = callerContext(route, token);
    } catch (StatusRuntimeException e) {
      sink.start();
      sink.chunk("{\"error\":" + errorJson(e) + "}");
      sink.end();
      return () -> { };
    }
    io.grpc.Context previous = ctx.attach();
    try {
      return streamAs(route, body, sink);
    } finally {
      ctx.detach(previous);
    }
  }

  private Runnable streamAs(String route, String body, StreamSink sink) {
    List<JsonNode> requests;
    try {
      requests = splitJson(body);
    } catch (IOException e) {
      sink.start();
      sink.chunk("{\"error\":" + errorJson(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException()) + "}");
      sink.end();
      return () -> { };
    }
    sink.start();
    if (route.equals("/watch")) {
      StreamObserver<WatchRequest> in = watch.watch(resultSink(sink));
      for (JsonNode n : requests) {
        try {
          in.onNext((WatchRequest) parse(WatchRequest.getDefaultInstance(), n.toString()));
        } catch (InvalidProtocolBufferException e) {
          sink.chunk("{\"error\":" + errorJson(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException()) + "}");
        }
      }
      return () -> in.onError(Status.CANCELLED.asRuntimeException());
    }
    StreamObserver<LeaseKeepAliveRequest> in = lease.leaseKeepAlive(this.<LeaseKeepAliveResponse>resultSink(sink));
    for (JsonNode n : requests) {
      try {
        in.onNext((LeaseKeepAliveRequest) parse(LeaseKeepAliveRequest.getDefaultInstance(), n.toString()));
      } catch (InvalidProtocolBufferException e) {
        sink.chunk("{\"error\":" + errorJson(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException()) + "}");
      }
    }
    in.onCompleted();
    return () -> { };
  }

  private <T extends Message> StreamObserver<T> resultSink(StreamSink sink) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T m) {
        sink.chunk("{\"result\":" + print(m) + "}");
      }

      @Override
      public void onError(Throwable t) {
        sink.chunk("{\"error\":" + errorJson(t) + "}");
        sink.end();
      }

      @Override
      public void onCompleted() {
        sink.end();
      }
    };
  }

  static List<JsonNode> splitJson(String body) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    if (body == null || body.isBlank()) {
      return out;
    }
    try (JsonParser p = new JsonFactory().createParser(body)) {
      var it = JSON.readValues(p, JsonNode.class);
      while (it.hasNextValue()) {
        out.add(it.nextValue());
      }
    }
    return out;
  }

  /**
   * Reads a request as etcd's gateway does: an empty body or {@code null} is an empty request;
   * a body Go would not read fails with Go's words ({@link GoJson}).
   */
  private static Message parse(Message prototype, String body) throws InvalidProtocolBufferException {
    Message.Builder b = prototype.newBuilderForType();
    String syntax = GoJson.syntaxError(body);
    if (syntax != null) {
      throw new InvalidProtocolBufferException(syntax);
    }
    if (body == null || body.isBlank()) {
      return b.build();
    }
    JsonNode tree;
    try (JsonParser p = new JsonFactory().createParser(body)) {
      tree = JSON.readTree(p); // the first value only, as Go's decoder reads it
    } catch (IOException e) {
      throw new InvalidProtocolBufferException(e.getMessage());
    }
    if (tree == null || tree.isNull()) {
      return b.build();
    }
    String bytes = base64Error(tree, prototype.getDescriptorForType());
    if (bytes != null) {
      throw new InvalidProtocolBufferException(bytes);
    }
    PARSER.merge(tree.toString(), b);
    return b.build();
  }

  /** Go's complaint about the first bytes field (at any depth) that is not standard base64. */
  private static String base64Error(JsonNode node, Descriptors.Descriptor type) {
    if (!node.isObject()) {
      return null;
    }
    var fields = node.fields();
    while (fields.hasNext()) {
      var e = fields.next();
      Descriptors.FieldDescriptor f = type.findFieldByName(e.getKey());
      if (f == null) {
        f = type.getFields().stream().filter(x -> x.getJsonName().equals(e.getKey())).findFirst().orElse(null);
      }
      if (f == null) {
        continue;
      }
      for (JsonNode v : e.getValue().isArray() ? e.getValue() : List.of(e.getValue())) {
        String bad = null;
        if (f.getType() == Descriptors.FieldDescriptor.Type.BYTES && v.isTextual()) {
          bad = GoJson.base64Error(v.asText());
        } else if (f.getType() == Descriptors.FieldDescriptor.Type.MESSAGE) {
          bad = base64Error(v, f.getMessageType());
        }
        if (bad != null) {
          return bad;
        }
      }
    }
    return null;
  }

  static String print(Message m) {
    try {
      return PRINTER.print(m);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("cannot print " + m.getDescriptorForType().getName(), e);
    }
  }

  static Answer error(Throwable t) {
    Status s = t instanceof StatusRuntimeException e ? e.getStatus() : Status.fromThrowable(t);
    return new Answer(httpStatus(s.getCode()), errorJson(t));
  }

  static String errorJson(Throwable t) {
    Status s = t instanceof StatusRuntimeException e ? e.getStatus() : Status.fromThrowable(t);
    String msg = s.getDescription() == null ? s.getCode().name() : s.getDescription();
    var node = JSON.createObjectNode();
    node.put("error", msg);
    node.put("message", msg);
    node.put("code", s.getCode().value());
    return node.toString();
  }

  /** grpc-gateway's mapping of gRPC codes to HTTP statuses. */
  static int httpStatus(Status.Code c) {
    return switch (c) {
      case OK -> 200;
      case CANCELLED -> 408;
      case INVALID_ARGUMENT, OUT_OF_RANGE, FAILED_PRECONDITION -> 400;
      case DEADLINE_EXCEEDED -> 504;
      case NOT_FOUND -> 404;
      case ALREADY_EXISTS, ABORTED -> 409;
      case PERMISSION_DENIED -> 403;
      case UNAUTHENTICATED -> 401;
      case RESOURCE_EXHAUSTED -> 429;
      case UNIMPLEMENTED -> 501;
      case UNAVAILABLE -> 503;
      default -> 500;
    };
  }
}
