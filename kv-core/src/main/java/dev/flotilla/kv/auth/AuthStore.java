package dev.flotilla.kv.auth;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.flotilla.kv.mvcc.MvccStore;
import dev.flotilla.kv.mvcc.WriteTxn;
import dev.flotilla.kv.v3.V3Error;
import dev.flotilla.proto.etcd.authpb.Permission;
import dev.flotilla.proto.etcd.authpb.Role;
import dev.flotilla.proto.etcd.authpb.User;
import dev.flotilla.proto.etcd.etcdserverpb.AuthDisableResponse;
import dev.flotilla.proto.etcd.etcdserverpb.AuthEnableResponse;
import dev.flotilla.proto.etcd.etcdserverpb.AuthRoleAddResponse;
import dev.flotilla.proto.etcd.etcdserverpb.AuthRoleDeleteResponse;
import dev.flotilla.proto.etcd.etcdserverpb.AuthRoleGrantPermissionRequest;
import dev.flotilla.proto.etcd.etcdserverpb.AuthRoleGrantPermissionResponse;
import dev.flotilla.proto.etcd.etcdserverpb.AuthRoleRevokePermissionRequest;
import dev.flotilla.proto.etcd.etcdserverpb.AuthRoleRevokePermissionResponse;
import dev.flotilla.proto.etcd.etcdserverpb.AuthUserAddResponse;
import dev.flotilla.proto.etcd.etcdserverpb.AuthUserChangePasswordResponse;
import dev.flotilla.proto.etcd.etcdserverpb.AuthUserDeleteResponse;
import dev.flotilla.proto.etcd.etcdserverpb.AuthUserGrantRoleRequest;
import dev.flotilla.proto.etcd.etcdserverpb.AuthUserGrantRoleResponse;
import dev.flotilla.proto.etcd.etcdserverpb.AuthUserRevokeRoleRequest;
import dev.flotilla.proto.etcd.etcdserverpb.AuthUserRevokeRoleResponse;
import dev.flotilla.proto.etcd.etcdserverpb.AuthenticateResponse;
import dev.flotilla.proto.etcd.etcdserverpb.RequestOp;
import dev.flotilla.proto.etcd.etcdserverpb.TxnRequest;
import dev.flotilla.proto.store.AuthCommand;
import dev.flotilla.proto.store.AuthState;
import dev.flotilla.proto.store.AuthUserAdd;
import dev.flotilla.proto.store.AuthUserChangePassword;
import dev.flotilla.proto.store.StoreCommand;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * etcd's auth store (auth/store.go): users with bcrypt password hashes and roles, roles with key
 * permissions, the enabled flag and the auth revision. Kept in the store's meta under "auth" by
 * applied {@link AuthCommand}s, so every member, every restart and every Raft snapshot agrees.
 * Read from any thread; changed by the apply thread only.
 */
public final class AuthStore {
  static final String META_KEY = "auth";
  public static final String ROOT = "root";

  private volatile AuthState state;
  /** user -> merged [read, write] permissions; dropped whenever the state changes. */
  private final Map<String, RangePermissions[]> cache = new ConcurrentHashMap<>();
  private final SimpleTokens tokens;

  public AuthStore(MvccStore store, SimpleTokens tokens) {
    this.tokens = tokens;
    reload(store);
  }

  /** Re-reads the state (after a snapshot replaced the store); tokens go, as etcd's do on recovery. */
  public void reload(MvccStore store) {
    byte[] b = store.getMeta(META_KEY);
    try {
      state = b == null ? AuthState.getDefaultInstance() : AuthState.parseFrom(b);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt auth state in the store", e);
    }
    cache.clear();
    tokens.clear();
  }

  public SimpleTokens tokens() {
    return tokens;
  }

  public boolean enabled() {
    return state.getEnabled();
  }

  public long revision() {
    return state.getRevision();
  }

  public Optional<User> user(String name) {
    return state.getUsersList().stream().filter(u -> u.getName().toStringUtf8().equals(name)).findFirst();
  }

  public Optional<Role> role(String name) {
    return state.getRolesList().stream().filter(r -> r.getName().toStringUtf8().equals(name)).findFirst();
  }

  public List<String> userNames() {
    return state.getUsersList().stream().map(u -> u.getName().toStringUtf8()).toList();
  }

  public List<String> roleNames() {
    return state.getRolesList().stream().map(r -> r.getName().toStringUtf8()).toList();
  }

  /**
   * etcd's CheckPassword: the user exists, has a password and it matches (bcrypt: call it off the
   * gRPC and apply threads).
   */
  public void checkPassword(String name, String password) throws V3Error {
    Optional<User> u = user(name);
    if (u.isEmpty() || (u.get().hasOptions() && u.get().getOptions().getNoPassword())
        || !Passwords.matches(u.get().getPassword().toByteArray(), password)) {
      throw AuthErrors.authFailed();
    }
  }

  // ---- permission checks. user: null for the server's own requests (never checked), "" when the
  // client gave no token.

  public void checkAdmin(String user) throws V3Error {
    if (!enabled() || user == null) {
      return;
    }
    if (user.isEmpty()) {
      throw AuthErrors.userEmpty();
    }
    Optional<User> u = user(user);
    if (u.isEmpty()) {
      throw AuthErrors.userNotFound();
    }
    if (!u.get().getRolesList().contains(ROOT)) {
      throw AuthErrors.permissionDenied();
    }
  }

  public void checkRange(String user, ByteString key, ByteString rangeEnd) throws V3Error {
    check(user, key, rangeEnd, false);
  }

  public void checkPut(String user, ByteString key) throws V3Error {
    check(user, key, ByteString.EMPTY, true);
  }

  public void checkDeleteRange(String user, ByteString key, ByteString rangeEnd) throws V3Error {
    check(user, key, rangeEnd, true);
  }

  private void check(String user, ByteString key, ByteString rangeEnd, boolean write) throws V3Error {
    if (!enabled() || user == null) {
      return;
    }
    if (user.isEmpty()) {
      throw AuthErrors.userEmpty();
    }
    Optional<User> u = user(user);
    if (u.isEmpty()) {
      throw AuthErrors.permissionDenied();
    }
    if (u.get().getRolesList().contains(ROOT)) {
      return; // root may do anything
    }
    RangePermissions[] perms = cache.computeIfAbsent(user, n -> merged(u.get()));
    if (!perms[write ? 1 : 0].covers(key, rangeEnd)) {
      throw AuthErrors.permissionDenied();
    }
  }

  private RangePermissions[] merged(User u) {
    List<Permission> all = new ArrayList<>();
    for (String r : u.getRolesList()) {
      role(r).ifPresent(role -> all.addAll(role.getKeyPermissionList()));
    }
    return new RangePermissions[] {RangePermissions.of(all, false), RangePermissions.of(all, true)};
  }

  /**
   * etcd's authApplierV3: whether the user who proposed {@code cmd} may do it, against the state as
   * of this point in the log. {@code leaseKeys} lists the keys attached to a lease (a lease revoke,
   * or a put attaching a key to a lease, needs write permission on all of them).
   */
  public void checkCommand(StoreCommand cmd, java.util.function.LongFunction<List<byte[]>> leaseKeys)
      throws V3Error {
    if (!cmd.hasRequestAuth() || !enabled()) {
      return;
    }
    String user = cmd.getRequestAuth().getUsername();
    switch (cmd.getCmdCase()) {
      case V3_PUT -> checkPutRequest(user, cmd.getV3Put(), leaseKeys);
      case V3_DELETE_RANGE -> checkDelete(user, cmd.getV3DeleteRange());
      case V3_TXN -> checkTxn(user, cmd.getV3Txn(), leaseKeys);
      case V3_LEASE_REVOKE -> checkLeaseKeys(user, cmd.getV3LeaseRevoke().getID(), leaseKeys);
      case AUTH -> {
        if (cmd.getAuth().getOpCase() != AuthCommand.OpCase.AUTHENTICATE) {
          checkAdmin(user);
        }
      }
      default -> { }
    }
  }

  /** A {@link dev.flotilla.kv.v3.V3Kv#readOnly read-only} txn served without the log: read permission on every key it compares or reads. */
  public void checkReadOnlyTxn(String user, TxnRequest t) throws V3Error {
    checkTxn(user, t, lease -> List.of());
  }

  private void checkPutRequest(String user, dev.flotilla.proto.etcd.etcdserverpb.PutRequest r,
      java.util.function.LongFunction<List<byte[]>> leaseKeys) throws V3Error {
    checkPut(user, r.getKey());
    checkLeaseKeys(user, r.getLease(), leaseKeys);
    if (r.getPrevKv()) {
      checkRange(user, r.getKey(), ByteString.EMPTY);
    }
  }

  private void checkDelete(String user, dev.flotilla.proto.etcd.etcdserverpb.DeleteRangeRequest r) throws V3Error {
    checkDeleteRange(user, r.getKey(), r.getRangeEnd());
    if (r.getPrevKv()) {
      checkRange(user, r.getKey(), r.getRangeEnd());
    }
  }

  private void checkTxn(String user, TxnRequest t, java.util.function.LongFunction<List<byte[]>> leaseKeys)
      throws V3Error {
    for (var c : t.getCompareList()) {
      checkRange(user, c.getKey(), c.getRangeEnd());
    }
    for (var list : List.of(t.getSuccessList(), t.getFailureList())) {
      for (RequestOp op : list) {
        switch (op.getRequestCase()) {
          case REQUEST_RANGE -> checkRange(user, op.getRequestRange().getKey(), op.getRequestRange().getRangeEnd());
          case REQUEST_PUT -> checkPutRequest(user, op.getRequestPut(), leaseKeys);
          case REQUEST_DELETE_RANGE -> checkDelete(user, op.getRequestDeleteRange());
          case REQUEST_TXN -> checkTxn(user, op.getRequestTxn(), leaseKeys);
          default -> { }
        }
      }
    }
  }

  private void checkLeaseKeys(String user, long lease, java.util.function.LongFunction<List<byte[]>> leaseKeys)
      throws V3Error {
    if (lease == 0) {
      return;
    }
    for (byte[] k : leaseKeys.apply(lease)) {
      checkPut(user, ByteString.copyFrom(k));
    }
  }

  // ---- apply

  /** Applies one auth change at log {@code index}; the answer has no header (the API adds it). */
  public Message apply(WriteTxn txn, AuthCommand c, long index) throws V3Error {
    AuthState s = state;
    switch (c.getOpCase()) {
      case ENABLE -> {
        if (s.getEnabled()) {
          return AuthEnableResponse.getDefaultInstance();
        }
        Optional<User> root = user(ROOT);
        if (root.isEmpty()) {
          throw AuthErrors.rootUserNotExist();
        }
        if (!root.get().getRolesList().contains(ROOT)) {
          throw AuthErrors.rootRoleNotExist();
        }
        write(txn, s.toBuilder().setEnabled(true));
        return AuthEnableResponse.getDefaultInstance();
      }
      case DISABLE -> {
        if (s.getEnabled()) {
          write(txn, s.toBuilder().setEnabled(false));
          tokens.clear();
        }
        return AuthDisableResponse.getDefaultInstance();
      }
      case AUTHENTICATE -> {
        if (!s.getEnabled()) {
          throw AuthErrors.authNotEnabled();
        }
        String name = c.getAuthenticate().getName();
        if (user(name).isEmpty()) {
          throw AuthErrors.authFailed();
        }
        String token = c.getAuthenticate().getTokenPrefix() + "." + index;
        tokens.assign(token, name);
        return AuthenticateResponse.newBuilder().setToken(token).build();
      }
      case USER_ADD -> {
        AuthUserAdd r = c.getUserAdd();
        if (r.getName().isEmpty()) {
          throw AuthErrors.userEmpty();
        }
        if (user(r.getName()).isPresent()) {
          throw AuthErrors.userAlreadyExist();
        }
        User.Builder u = User.newBuilder().setName(utf8(r.getName())).setPassword(r.getPasswordHash());
        if (r.hasOptions()) {
          u.setOptions(r.getOptions());
        }
        List<User> users = new ArrayList<>(s.getUsersList());
        users.add(u.build());
        write(txn, withUsers(s, users));
        return AuthUserAddResponse.getDefaultInstance();
      }
      case USER_DELETE -> {
        String name = c.getUserDelete().getName();
        if (s.getEnabled() && name.equals(ROOT)) {
          throw AuthErrors.invalidAuthMgmt();
        }
        User u = user(name).orElseThrow(AuthErrors::userNotFound);
        List<User> users = new ArrayList<>(s.getUsersList());
        users.remove(u);
        write(txn, withUsers(s, users));
        tokens.invalidateUser(name);
        return AuthUserDeleteResponse.getDefaultInstance();
      }
      case USER_CHANGE_PASSWORD -> {
        AuthUserChangePassword r = c.getUserChangePassword();
        User u = user(r.getName()).orElseThrow(AuthErrors::userNotFound);
        write(txn, replaceUser(s, u, u.toBuilder().setPassword(r.getPasswordHash()).build()));
        tokens.invalidateUser(r.getName());
        return AuthUserChangePasswordResponse.getDefaultInstance();
      }
      case USER_GRANT_ROLE -> {
        AuthUserGrantRoleRequest r = c.getUserGrantRole();
        User u = user(r.getUser()).orElseThrow(AuthErrors::userNotFound);
        if (!r.getRole().equals(ROOT) && role(r.getRole()).isEmpty()) {
          throw AuthErrors.roleNotFound();
        }
        if (u.getRolesList().contains(r.getRole())) {
          return AuthUserGrantRoleResponse.getDefaultInstance(); // etcd ignores a second grant
        }
        List<String> roles = new ArrayList<>(u.getRolesList());
        roles.add(r.getRole());
        roles.sort(Comparator.naturalOrder());
        write(txn, replaceUser(s, u, u.toBuilder().clearRoles().addAllRoles(roles).build()));
        return AuthUserGrantRoleResponse.getDefaultInstance();
      }
      case USER_REVOKE_ROLE -> {
        AuthUserRevokeRoleRequest r = c.getUserRevokeRole();
        if (s.getEnabled() && r.getName().equals(ROOT) && r.getRole().equals(ROOT)) {
          throw AuthErrors.invalidAuthMgmt();
        }
        User u = user(r.getName()).orElseThrow(AuthErrors::userNotFound);
        if (!u.getRolesList().contains(r.getRole())) {
          throw AuthErrors.roleNotGranted();
        }
        List<String> roles = new ArrayList<>(u.getRolesList());
        roles.remove(r.getRole());
        write(txn, replaceUser(s, u, u.toBuilder().clearRoles().addAllRoles(roles).build()));
        return AuthUserRevokeRoleResponse.getDefaultInstance();
      }
      case ROLE_ADD -> {
        String name = c.getRoleAdd().getName();
        if (name.isEmpty()) {
          throw AuthErrors.roleEmpty();
        }
        if (role(name).isPresent()) {
          throw AuthErrors.roleAlreadyExist();
        }
        List<Role> roles = new ArrayList<>(s.getRolesList());
        roles.add(Role.newBuilder().setName(utf8(name)).build());
        write(txn, withRoles(s, roles));
        return AuthRoleAddResponse.getDefaultInstance();
      }
      case ROLE_DELETE -> {
        String name = c.getRoleDelete().getRole();
        if (s.getEnabled() && name.equals(ROOT)) {
          throw AuthErrors.invalidAuthMgmt();
        }
        Role role = role(name).orElseThrow(AuthErrors::roleNotFound);
        List<Role> roles = new ArrayList<>(s.getRolesList());
        roles.remove(role);
        List<User> users = new ArrayList<>();
        for (User u : s.getUsersList()) {
          users.add(u.getRolesList().contains(name)
              ? u.toBuilder().clearRoles().addAllRoles(u.getRolesList().stream().filter(x -> !x.equals(name)).toList())
                  .build()
              : u);
        }
        write(txn, withRoles(withUsers(s, users).build(), roles));
        return AuthRoleDeleteResponse.getDefaultInstance();
      }
      case ROLE_GRANT_PERMISSION -> {
        AuthRoleGrantPermissionRequest r = c.getRoleGrantPermission();
        Role role = role(r.getName()).orElseThrow(AuthErrors::roleNotFound);
        List<Permission> perms = new ArrayList<>(role.getKeyPermissionList());
        boolean updated = false;
        for (int i = 0; i < perms.size(); i++) {
          Permission p = perms.get(i);
          if (p.getKey().equals(r.getPerm().getKey()) && p.getRangeEnd().equals(r.getPerm().getRangeEnd())) {
            perms.set(i, p.toBuilder().setPermType(r.getPerm().getPermType()).build());
            updated = true;
          }
        }
        if (!updated) {
          perms.add(r.getPerm());
          perms.sort(Comparator.comparing(Permission::getKey, ByteString.unsignedLexicographicalComparator()));
        }
        write(txn, replaceRole(s, role, role.toBuilder().clearKeyPermission().addAllKeyPermission(perms).build()));
        return AuthRoleGrantPermissionResponse.getDefaultInstance();
      }
      case ROLE_REVOKE_PERMISSION -> {
        AuthRoleRevokePermissionRequest r = c.getRoleRevokePermission();
        Role role = role(r.getRole()).orElseThrow(AuthErrors::roleNotFound);
        List<Permission> perms = role.getKeyPermissionList().stream()
            .filter(p -> !(p.getKey().equals(r.getKey()) && p.getRangeEnd().equals(r.getRangeEnd()))).toList();
        if (perms.size() == role.getKeyPermissionCount()) {
          throw AuthErrors.permissionNotGranted();
        }
        write(txn, replaceRole(s, role, role.toBuilder().clearKeyPermission().addAllKeyPermission(perms).build()));
        return AuthRoleRevokePermissionResponse.getDefaultInstance();
      }
      default -> throw new IllegalStateException("unknown auth command " + c.getOpCase());
    }
  }

  private static ByteString utf8(String s) {
    return ByteString.copyFrom(s, StandardCharsets.UTF_8);
  }

  private static AuthState.Builder withUsers(AuthState s, List<User> users) {
    List<User> sorted = new ArrayList<>(users);
    sorted.sort(Comparator.comparing(User::getName, ByteString.unsignedLexicographicalComparator()));
    return s.toBuilder().clearUsers().addAllUsers(sorted);
  }

  private static AuthState.Builder withRoles(AuthState s, List<Role> roles) {
    List<Role> sorted = new ArrayList<>(roles);
    sorted.sort(Comparator.comparing(Role::getName, ByteString.unsignedLexicographicalComparator()));
    return s.toBuilder().clearRoles().addAllRoles(sorted);
  }

  private static AuthState.Builder replaceUser(AuthState s, User old, User now) {
    List<User> users = new ArrayList<>(s.getUsersList());
    users.set(users.indexOf(old), now);
    return s.toBuilder().clearUsers().addAllUsers(users);
  }

  private static AuthState.Builder replaceRole(AuthState s, Role old, Role now) {
    List<Role> roles = new ArrayList<>(s.getRolesList());
    roles.set(roles.indexOf(old), now);
    return s.toBuilder().clearRoles().addAllRoles(roles);
  }

  /** Every change takes a new auth revision (etcd's commitRevision), persisted with the command. */
  private void write(WriteTxn txn, AuthState.Builder next) {
    AuthState s = next.setRevision(state.getRevision() + 1).build();
    txn.putMeta(META_KEY, s.toByteArray());
    state = s;
    cache.clear();
  }
}
