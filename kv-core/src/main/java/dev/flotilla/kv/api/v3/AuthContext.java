package dev.flotilla.kv.api.v3;

import dev.flotilla.proto.store.RequestAuth;
import dev.flotilla.proto.store.StoreCommand;
import io.grpc.Context;

/**
 * Who a v3 call comes from, as {@link AuthInterceptor} found it in the call's token: set on every
 * call that came over the network (user "" when it carried no token), absent for the member's own
 * in-process calls ({@code InProcessStoreClient}), which auth never refuses.
 */
record AuthContext(String user, String token) {
  static final Context.Key<AuthContext> KEY = Context.key("flotilla-auth");
  static final AuthContext ANONYMOUS = new AuthContext("", null);

  /** The caller of the current gRPC call, or null for an in-process one. */
  static AuthContext current() {
    return KEY.get();
  }

  /** The current caller's user name for permission checks: null (never checked) in-process. */
  static String currentUser() {
    AuthContext c = current();
    return c == null ? null : c.user();
  }

  /** {@code cmd} carrying its proposer, so the state machine checks it at apply. */
  static StoreCommand stamp(StoreCommand cmd) {
    AuthContext c = current();
    if (c == null || cmd.hasRequestAuth()) {
      return cmd;
    }
    return cmd.toBuilder().setRequestAuth(RequestAuth.newBuilder().setUsername(c.user())).build();
  }
}
