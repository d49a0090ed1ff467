package dev.flotilla.kv.api.v3;

import dev.flotilla.kv.auth.AuthErrors;
import dev.flotilla.kv.auth.AuthStore;
import dev.flotilla.kv.v3.V3Error;
import dev.flotilla.proto.etcd.etcdserverpb.AuthGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.ClusterGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.MaintenanceGrpc;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.util.Optional;
import java.util.Set;

/**
 * etcd's AuthInfoFromCtx for every v3 call: the simple token in the {@code token} metadata (what
 * etcd clients send; {@code authorization} as grpc-gateway clients send it) names the caller, an
 * unknown or expired token is "etcdserver: invalid auth token" (Unauthenticated, on which clients
 * authenticate again). Calls that need the root role (membership changes, defragment, snapshot,
 * hash, move-leader, as etcd's checkMembershipOperationPermission and authMaintenanceServer) are
 * refused here; key permissions are checked by the services and, for writes, at apply.
 */
final class AuthInterceptor implements ServerInterceptor {
  static final Metadata.Key<String> TOKEN = Metadata.Key.of("token", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private static final Set<String> ADMIN = Set.of(
      ClusterGrpc.getMemberAddMethod().getFullMethodName(),
      ClusterGrpc.getMemberRemoveMethod().getFullMethodName(),
      ClusterGrpc.getMemberUpdateMethod().getFullMethodName(),
      ClusterGrpc.getMemberPromoteMethod().getFullMethodName(),
      MaintenanceGrpc.getDefragmentMethod().getFullMethodName(),
      MaintenanceGrpc.getSnapshotMethod().getFullMethodName(),
      MaintenanceGrpc.getHashMethod().getFullMethodName(),
      MaintenanceGrpc.getHashKVMethod().getFullMethodName(),
      MaintenanceGrpc.getMoveLeaderMethod().getFullMethodName());

  /** The auth package's words for the refusals of {@link AuthStore#checkAdmin} (etcd auth/store.go). */
  private static final java.util.Map<String, String> MAINTENANCE_WORDS = java.util.Map.of(
      "etcdserver: permission denied", "auth: permission denied",
      "etcdserver: user name is empty", "auth: user name is empty",
      "etcdserver: user name not found", "auth: user not found");

  private final AuthStore auth;

  AuthInterceptor(AuthStore auth) {
    this.auth = auth;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    if (method.equals(AuthGrpc.getAuthenticateMethod().getFullMethodName())) {
      return next.startCall(call, headers); // takes a password, not a token
    }
    String token = headers.get(TOKEN);
    if (token == null) {
      token = headers.get(AUTHORIZATION);
    }
    AuthContext caller = AuthContext.ANONYMOUS;
    if (token != null) {
      Optional<String> user = auth.tokens().user(token);
      if (user.isEmpty()) {
        return refuse(call, AuthErrors.invalidAuthToken());
      }
      caller = new AuthContext(user.get(), token);
    }
    if (ADMIN.contains(method)) {
      try {
        auth.checkAdmin(caller.user());
      } catch (V3Error e) {
        if (method.startsWith(MaintenanceGrpc.SERVICE_NAME + "/")) {
          // etcd's authMaintenanceServer hands back the auth package's own error, untranslated
          call.close(io.grpc.Status.UNKNOWN.withDescription(MAINTENANCE_WORDS.getOrDefault(e.getMessage(),
              e.getMessage())), new Metadata());
          return new ServerCall.Listener<>() { };
        }
        return refuse(call, e);
      }
    }
    return Contexts.interceptCall(Context.current().withValue(AuthContext.KEY, caller), call, headers, next);
  }

  private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, V3Error e) {
    call.close(V3Status.of(e).getStatus(), new Metadata());
    return new ServerCall.Listener<>() { };
  }
}
