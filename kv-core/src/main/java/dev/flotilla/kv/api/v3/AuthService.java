package dev.flotilla.kv.api.v3;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import dev.flotilla.kv.auth.AuthErrors;
import dev.flotilla.kv.auth.AuthStore;
import dev.flotilla.kv.auth.Passwords;
import dev.flotilla.kv.auth.SimpleTokens;
import dev.flotilla.kv.server.StoreMember;
import dev.flotilla.kv.v3.V3Error;
import dev.flotilla.proto.etcd.etcdserverpb.*;
import dev.flotilla.proto.store.AuthAuthenticate;
import dev.flotilla.proto.store.AuthCommand;
import dev.flotilla.proto.store.AuthUserAdd;
import dev.flotilla.proto.store.AuthUserChangePassword;
import dev.flotilla.proto.store.StoreCommand;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * etcd's Auth service. Changes go through the log as {@link AuthCommand}s (root only once auth is
 * on, checked here and again at apply); reads answer from the applied state after a ReadIndex
 * barrier. bcrypt (hashing a new password, checking one in Authenticate) runs on a small pool of
 * its own, never on the gRPC event loop or the apply thread.
 */
final class AuthService extends AuthGrpc.AuthImplBase implements AutoCloseable {
  private final StoreMember member;
  private final KvService kv;
  private volatile int bcryptCost = Passwords.DEFAULT_COST;
  private final ExecutorService bcrypt = Executors.newFixedThreadPool(2, r -> {
    Thread t = new Thread(r, "kvd-bcrypt");
    t.setDaemon(true);
    return t;
  });

  AuthService(StoreMember member, KvService kv) {
    this.member = member;
    this.kv = kv;
  }

  /** etcd's --bcrypt-cost. */
  void bcryptCost(int cost) {
    Passwords.hash("", cost); // refuses a cost out of bcrypt's range, naming the flag
    this.bcryptCost = cost;
  }

  private AuthStore auth() {
    return member.machine().auth();
  }

  private ResponseHeader header() {
    return kv.header(ResponseHeader.newBuilder().setRevision(member.store().revision()).build());
  }

  /** Proposes an auth change and answers {@code answer} with a header once applied. */
  private <T> void change(AuthCommand.Builder c, StreamObserver<T> out, Function<ResponseHeader, T> answer) {
    kv.propose(StoreCommand.newBuilder().setAuth(c).build(), out, m -> answer.apply(header()));
  }

  /** Root's check before any work (apply checks again, against the state of that point in the log). */
  private boolean admin(StreamObserver<?> out) {
    try {
      auth().checkAdmin(AuthContext.currentUser());
      return true;
    } catch (V3Error e) {
      out.onError(V3Status.of(e));
      return false;
    }
  }

  /** Runs bcrypt work off the calling thread, keeping the caller's gRPC context (and so its user). */
  private void offload(StreamObserver<?> out, Runnable work) {
    try {
      bcrypt.execute(io.grpc.Context.current().wrap(() -> {
        try {
          work.run();
        } catch (RuntimeException e) {
          out.onError(V3Status.internal(e));
        }
      }));
    } catch (RejectedExecutionException e) {
      out.onError(V3Status.internal(new IllegalStateException("server stopped")));
    }
  }

  @Override
  public void authEnable(AuthEnableRequest r, StreamObserver<AuthEnableResponse> out) {
    if (admin(out)) {
      change(AuthCommand.newBuilder().setEnable(r), out, h -> AuthEnableResponse.newBuilder().setHeader(h).build());
    }
  }

  @Override
  public void authDisable(AuthDisableRequest r, StreamObserver<AuthDisableResponse> out) {
    if (admin(out)) {
      change(AuthCommand.newBuilder().setDisable(r), out, h -> AuthDisableResponse.newBuilder().setHeader(h).build());
    }
  }

  @Override
  public void authenticate(AuthenticateRequest r, StreamObserver<AuthenticateResponse> out) {
    if (!auth().enabled()) {
      out.onError(V3Status.of(AuthErrors.authNotEnabled()));
      return;
    }
    offload(out, () -> {
      try {
        auth().checkPassword(r.getName(), r.getPassword());
      } catch (V3Error e) {
        out.onError(V3Status.of(e));
        return;
      }
      // every member assigns the token when it applies this (etcd's InternalAuthenticateRequest)
      kv.propose(StoreCommand.newBuilder().setAuth(AuthCommand.newBuilder().setAuthenticate(
              AuthAuthenticate.newBuilder().setName(r.getName()).setTokenPrefix(SimpleTokens.newPrefix()))).build(),
          out, m -> ((AuthenticateResponse) m).toBuilder().setHeader(header()).build());
    });
  }

  @Override
  public void userAdd(AuthUserAddRequest r, StreamObserver<AuthUserAddResponse> out) {
    if (r.getName().isEmpty()) {
      out.onError(V3Status.of(AuthErrors.userEmpty()));
      return;
    }
    if (!admin(out)) {
      return;
    }
    boolean noPassword = r.hasOptions() && r.getOptions().getNoPassword();
    offload(out, () -> {
      AuthUserAdd.Builder add = AuthUserAdd.newBuilder().setName(r.getName());
      if (r.hasOptions()) {
        add.setOptions(r.getOptions());
      }
      if (!noPassword) {
        byte[] hash = hashOrFail(r.getPassword(), out);
        if (hash == null) {
          return;
        }
        add.setPasswordHash(ByteString.copyFrom(hash));
      }
      change(AuthCommand.newBuilder().setUserAdd(add), out, h -> AuthUserAddResponse.newBuilder().setHeader(h).build());
    });
  }

  private byte[] hashOrFail(String password, StreamObserver<?> out) {
    try {
      return Passwords.hash(password, bcryptCost);
    } catch (IllegalArgumentException e) {
      out.onError(V3Status.of(V3Error.Code.INVALID_ARGUMENT, "etcdserver: " + e.getMessage()));
      return null;
    }
  }

  @Override
  public void userChangePassword(AuthUserChangePasswordRequest r, StreamObserver<AuthUserChangePasswordResponse> out) {
    if (!admin(out)) {
      return;
    }
    if (auth().user(r.getName()).isEmpty()) {
      out.onError(V3Status.of(AuthErrors.userNotFound())); // no bcrypt work for a user that is not there
      return;
    }
    offload(out, () -> {
      byte[] hash = hashOrFail(r.getPassword(), out);
      if (hash != null) {
        change(AuthCommand.newBuilder().setUserChangePassword(AuthUserChangePassword.newBuilder()
                .setName(r.getName()).setPasswordHash(ByteString.copyFrom(hash))), out,
            h -> AuthUserChangePasswordResponse.newBuilder().setHeader(h).build());
      }
    });
  }

  @Override
  public void userDelete(AuthUserDeleteRequest r, StreamObserver<AuthUserDeleteResponse> out) {
    if (admin(out)) {
      change(AuthCommand.newBuilder().setUserDelete(r), out, h -> AuthUserDeleteResponse.newBuilder().setHeader(h).build());
    }
  }

  @Override
  public void userGrantRole(AuthUserGrantRoleRequest r, StreamObserver<AuthUserGrantRoleResponse> out) {
    if (admin(out)) {
      change(AuthCommand.newBuilder().setUserGrantRole(r), out,
          h -> AuthUserGrantRoleResponse.newBuilder().setHeader(h).build());
    }
  }

  @Override
  public void userRevokeRole(AuthUserRevokeRoleRequest r, StreamObserver<AuthUserRevokeRoleResponse> out) {
    if (admin(out)) {
      change(AuthCommand.newBuilder().setUserRevokeRole(r), out,
          h -> AuthUserRevokeRoleResponse.newBuilder().setHeader(h).build());
    }
  }

  @Override
  public void roleAdd(AuthRoleAddRequest r, StreamObserver<AuthRoleAddResponse> out) {
    if (admin(out)) {
      change(AuthCommand.newBuilder().setRoleAdd(r), out, h -> AuthRoleAddResponse.newBuilder().setHeader(h).build());
    }
  }

  @Override
  public void roleDelete(AuthRoleDeleteRequest r, StreamObserver<AuthRoleDeleteResponse> out) {
    if (admin(out)) {
      change(AuthCommand.newBuilder().setRoleDelete(r), out, h -> AuthRoleDeleteResponse.newBuilder().setHeader(h).build());
    }
  }

  @Override
  public void roleGrantPermission(AuthRoleGrantPermissionRequest r,
      StreamObserver<AuthRoleGrantPermissionResponse> out) {
    if (!r.hasPerm()) {
      out.onError(V3Status.of(AuthErrors.permissionNotGiven()));
      return;
    }
    if (admin(out)) {
      change(AuthCommand.newBuilder().setRoleGrantPermission(r), out,
          h -> AuthRoleGrantPermissionResponse.newBuilder().setHeader(h).build());
    }
  }

  @Override
  public void roleRevokePermission(AuthRoleRevokePermissionRequest r,
      StreamObserver<AuthRoleRevokePermissionResponse> out) {
    if (admin(out)) {
      change(AuthCommand.newBuilder().setRoleRevokePermission(r), out,
          h -> AuthRoleRevokePermissionResponse.newBuilder().setHeader(h).build());
    }
  }

  @Override
  public void userGet(AuthUserGetRequest r, StreamObserver<AuthUserGetResponse> out) {
    read(out, () -> AuthUserGetResponse.newBuilder().setHeader(header())
        .addAllRoles(auth().user(r.getName()).orElseThrow(AuthService::userNotFound).getRolesList()).build());
  }

  @Override
  public void userList(AuthUserListRequest r, StreamObserver<AuthUserListResponse> out) {
    read(out, () -> AuthUserListResponse.newBuilder().setHeader(header()).addAllUsers(auth().userNames()).build());
  }

  @Override
  public void roleGet(AuthRoleGetRequest r, StreamObserver<AuthRoleGetResponse> out) {
    read(out, () -> AuthRoleGetResponse.newBuilder().setHeader(header())
        .addAllPerm(auth().role(r.getRole()).orElseThrow(AuthService::roleNotFound).getKeyPermissionList()).build());
  }

  @Override
  public void roleList(AuthRoleListRequest r, StreamObserver<AuthRoleListResponse> out) {
    read(out, () -> AuthRoleListResponse.newBuilder().setHeader(header()).addAllRoles(auth().roleNames()).build());
  }

  private static Refused userNotFound() {
    return new Refused(AuthErrors.userNotFound());
  }

  private static Refused roleNotFound() {
    return new Refused(AuthErrors.roleNotFound());
  }

  /** A V3Error out of a Supplier. */
  private static final class Refused extends RuntimeException {
    final V3Error error;

    Refused(V3Error error) {
      super(error.getMessage(), null, false, false);
      this.error = error;
    }
  }

  /** A root-only read, answered once this member has applied everything committed before it (etcd goes through the log). */
  private <T extends Message> void read(StreamObserver<T> out, Supplier<T> answer) {
    if (!admin(out)) {
      return;
    }
    member.log().readBarrier().whenComplete((v, err) -> {
      if (err != null) {
        out.onError(V3Status.internal(err));
        return;
      }
      T resp;
      try {
        resp = answer.get();
      } catch (Refused e) {
        out.onError(V3Status.of(e.error));
        return;
      }
      out.onNext(resp);
      out.onCompleted();
    });
  }

  @Override
  public void close() {
    bcrypt.shutdownNow();
  }
}
