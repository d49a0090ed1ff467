package dev.flotilla.kv.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.flotilla.kv.mvcc.MvccStore;
import dev.flotilla.kv.server.ApplyOutcome;
import dev.flotilla.kv.server.MachineOnDisk;
import dev.flotilla.kv.server.StoreStateMachine;
import dev.flotilla.kv.v3.V3Error;
import dev.flotilla.proto.etcd.authpb.Permission;
import dev.flotilla.proto.etcd.etcdserverpb.AuthDisableRequest;
import dev.flotilla.proto.etcd.etcdserverpb.AuthEnableRequest;
import dev.flotilla.proto.etcd.etcdserverpb.AuthRoleAddRequest;
import dev.flotilla.proto.etcd.etcdserverpb.AuthRoleDeleteRequest;
import dev.flotilla.proto.etcd.etcdserverpb.AuthRoleGrantPermissionRequest;
import dev.flotilla.proto.etcd.etcdserverpb.AuthRoleRevokePermissionRequest;
import dev.flotilla.proto.etcd.etcdserverpb.AuthUserDeleteRequest;
import dev.flotilla.proto.etcd.etcdserverpb.AuthUserGrantRoleRequest;
import dev.flotilla.proto.etcd.etcdserverpb.AuthUserRevokeRoleRequest;
import dev.flotilla.proto.etcd.etcdserverpb.AuthenticateResponse;
import dev.flotilla.proto.etcd.etcdserverpb.Compare;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseGrantRequest;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseRevokeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.PutRequest;
import dev.flotilla.proto.etcd.etcdserverpb.RangeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.RequestOp;
import dev.flotilla.proto.etcd.etcdserverpb.TxnRequest;
import dev.flotilla.proto.store.AuthAuthenticate;
import dev.flotilla.proto.store.AuthCommand;
import dev.flotilla.proto.store.AuthUserAdd;
import dev.flotilla.proto.store.AuthUserChangePassword;
import dev.flotilla.proto.store.RequestAuth;
import dev.flotilla.proto.store.StoreCommand;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** etcd's auth store rules, applied through the state machine on a real RocksDB store. */
class AuthStateMachineTest {
  /** bcrypt's smallest cost keeps the test fast; the format and check are the same at any cost. */
  private static final int COST = 4;

  @RegisterExtension final MachineOnDisk disk = new MachineOnDisk();
  @TempDir Path tmp;

  private static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private ApplyOutcome apply(StoreCommand c) {
    return disk.apply(c);
  }

  private com.google.protobuf.Message ok(AuthCommand.Builder c, String asUser) {
    ApplyOutcome o = apply(as(StoreCommand.newBuilder().setAuth(c), asUser));
    assertThat(o).as("outcome of %s", c).isInstanceOf(ApplyOutcome.V3Done.class);
    return ((ApplyOutcome.V3Done) o).response();
  }

  private String fails(StoreCommand.Builder c, String asUser) {
    ApplyOutcome o = apply(as(c, asUser));
    assertThat(o).as("outcome of %s", c).isInstanceOf(ApplyOutcome.V3Failed.class);
    return ((ApplyOutcome.V3Failed) o).error().getMessage();
  }

  private String failsAuth(AuthCommand.Builder c, String asUser) {
    return fails(StoreCommand.newBuilder().setAuth(c), asUser);
  }

  private static StoreCommand as(StoreCommand.Builder c, String user) {
    if (user != null) {
      c.setRequestAuth(RequestAuth.newBuilder().setUsername(user));
    }
    return c.build();
  }

  private static AuthCommand.Builder userAdd(String name, String password) {
    return AuthCommand.newBuilder().setUserAdd(AuthUserAdd.newBuilder().setName(name)
        .setPasswordHash(ByteString.copyFrom(Passwords.hash(password, COST))));
  }

  private static AuthCommand.Builder roleAdd(String name) {
    return AuthCommand.newBuilder().setRoleAdd(AuthRoleAddRequest.newBuilder().setName(name));
  }

  private static AuthCommand.Builder grantRole(String user, String role) {
    return AuthCommand.newBuilder().setUserGrantRole(AuthUserGrantRoleRequest.newBuilder().setUser(user).setRole(role));
  }

  private static AuthCommand.Builder grant(String role, Permission.Type t, String key, String end) {
    return AuthCommand.newBuilder().setRoleGrantPermission(AuthRoleGrantPermissionRequest.newBuilder().setName(role)
        .setPerm(Permission.newBuilder().setPermType(t).setKey(b(key)).setRangeEnd(b(end))));
  }

  private static AuthCommand.Builder enable() {
    return AuthCommand.newBuilder().setEnable(AuthEnableRequest.getDefaultInstance());
  }

  private static StoreCommand.Builder put(String key) {
    return StoreCommand.newBuilder().setV3Put(PutRequest.newBuilder().setKey(b(key)).setValue(b("v")));
  }

  /** root with the root role, and "alice" who may read and write keys under "pub/" and read "ro". */
  private void rootAndAlice() {
    ok(userAdd("root", "rootpw"), null);
    ok(roleAdd("root"), null);
    ok(grantRole("root", "root"), null);
    ok(userAdd("alice", "alicepw"), null);
    ok(roleAdd("pub"), null);
    ok(grant("pub", Permission.Type.READWRITE, "pub/", "pub0"), null);
    ok(grant("pub", Permission.Type.READ, "ro", ""), null);
    ok(grantRole("alice", "pub"), null);
  }

  @Test
  void enableNeedsRootUserWithRootRole() {
    assertThat(failsAuth(enable(), null)).isEqualTo("etcdserver: root user does not exist");
    ok(userAdd("root", "pw"), null);
    assertThat(failsAuth(enable(), null)).isEqualTo("etcdserver: root user does not have root role");
    assertThat(failsAuth(grantRole("root", "nosuch"), null)).isEqualTo("etcdserver: role name not found");
    ok(grantRole("root", "root"), null); // the root role needs no RoleAdd
    ok(enable(), null);
    assertThat(disk.machine().auth().enabled()).isTrue();
  }

  @Test
  void usersAndRolesFollowEtcdsRules() {
    rootAndAlice();
    assertThat(failsAuth(userAdd("alice", "x"), null)).isEqualTo("etcdserver: user name already exists");
    assertThat(failsAuth(userAdd("", "x"), null)).isEqualTo("etcdserver: user name is empty");
    assertThat(failsAuth(roleAdd("pub"), null)).isEqualTo("etcdserver: role name already exists");
    assertThat(failsAuth(roleAdd(""), null)).isEqualTo("etcdserver: role name is empty");
    assertThat(failsAuth(AuthCommand.newBuilder().setUserRevokeRole(
        AuthUserRevokeRoleRequest.newBuilder().setName("alice").setRole("root")), null))
        .isEqualTo("etcdserver: role is not granted to the user");
    assertThat(failsAuth(AuthCommand.newBuilder().setRoleRevokePermission(
        AuthRoleRevokePermissionRequest.newBuilder().setRole("pub").setKey(b("nope"))), null))
        .isEqualTo("etcdserver: permission is not granted to the role");
    assertThat(failsAuth(AuthCommand.newBuilder().setUserDelete(AuthUserDeleteRequest.newBuilder().setName("bob")),
        null)).isEqualTo("etcdserver: user name not found");
    // granting the same range again changes its type, not the count
    ok(grant("pub", Permission.Type.WRITE, "ro", ""), null);
    assertThat(disk.machine().auth().role("pub").orElseThrow().getKeyPermissionList())
        .extracting(p -> p.getKey().toStringUtf8() + ":" + p.getPermType())
        .containsExactly("pub/:READWRITE", "ro:WRITE");
    assertThat(disk.machine().auth().userNames()).containsExactly("alice", "root");
    // deleting a role takes it from its users
    ok(AuthCommand.newBuilder().setRoleDelete(AuthRoleDeleteRequest.newBuilder().setRole("pub")), null);
    assertThat(disk.machine().auth().user("alice").orElseThrow().getRolesList()).isEmpty();
    // with auth on, root stays root
    ok(enable(), null);
    assertThat(failsAuth(AuthCommand.newBuilder().setUserDelete(AuthUserDeleteRequest.newBuilder().setName("root")),
        "root")).isEqualTo("etcdserver: invalid auth management");
    assertThat(failsAuth(AuthCommand.newBuilder().setUserRevokeRole(
        AuthUserRevokeRoleRequest.newBuilder().setName("root").setRole("root")), "root"))
        .isEqualTo("etcdserver: invalid auth management");
    assertThat(failsAuth(AuthCommand.newBuilder().setRoleDelete(AuthRoleDeleteRequest.newBuilder().setRole("root")),
        "root")).isEqualTo("etcdserver: invalid auth management");
  }

  @Test
  void passwordsAreBcryptHashesThatCheck() throws Exception {
    rootAndAlice();
    byte[] hash = disk.machine().auth().user("alice").orElseThrow().getPassword().toByteArray();
    assertThat(new String(hash, java.nio.charset.StandardCharsets.US_ASCII)).startsWith("$2a$04$").hasSize(60);
    disk.machine().auth().checkPassword("alice", "alicepw");
    assertThatThrownBy(() -> disk.machine().auth().checkPassword("alice", "wrong")).isInstanceOf(V3Error.class)
        .hasMessage("etcdserver: authentication failed, invalid user ID or password");
    assertThatThrownBy(() -> disk.machine().auth().checkPassword("nobody", "x"))
        .hasMessage("etcdserver: authentication failed, invalid user ID or password");
    ok(AuthCommand.newBuilder().setUserChangePassword(AuthUserChangePassword.newBuilder().setName("alice")
        .setPasswordHash(ByteString.copyFrom(Passwords.hash("newpw", COST)))), null);
    disk.machine().auth().checkPassword("alice", "newpw");
    assertThatThrownBy(() -> disk.machine().auth().checkPassword("alice", "alicepw")).isInstanceOf(V3Error.class);
  }

  @Test
  void permissionsAreCheckedAtApplyForClientRequests() {
    rootAndAlice();
    ok(enable(), null);
    assertThat(apply(as(put("pub/a"), "alice"))).isInstanceOf(ApplyOutcome.V3Done.class);
    assertThat(fails(put("other"), "alice")).isEqualTo("etcdserver: permission denied");
    assertThat(fails(put("ro"), "alice")).isEqualTo("etcdserver: permission denied");
    assertThat(fails(put("pub/a"), "")).isEqualTo("etcdserver: user name is empty");
    assertThat(fails(put("pub/a"), "ghost")).isEqualTo("etcdserver: permission denied");
    assertThat(apply(as(put("anything"), "root"))).isInstanceOf(ApplyOutcome.V3Done.class);
    // the server's own commands (no request auth) are not checked
    assertThat(apply(as(put("anything"), null))).isInstanceOf(ApplyOutcome.V3Done.class);
    // only root may change the auth state
    assertThat(failsAuth(roleAdd("x"), "alice")).isEqualTo("etcdserver: permission denied");
    assertThat(failsAuth(roleAdd("x"), "")).isEqualTo("etcdserver: user name is empty");
    ok(roleAdd("x"), "root");
    // txn: compares need read, a put needs write; a read of "ro" is fine
    TxnRequest.Builder t = TxnRequest.newBuilder()
        .addCompare(Compare.newBuilder().setKey(b("ro")).setTarget(Compare.CompareTarget.VERSION))
        .addSuccess(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(b("ro"))))
        .addFailure(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b("pub/x"))));
    assertThat(apply(as(StoreCommand.newBuilder().setV3Txn(t), "alice"))).isInstanceOf(ApplyOutcome.V3Done.class);
    t.addCompare(Compare.newBuilder().setKey(b("secret")).setTarget(Compare.CompareTarget.VERSION));
    assertThat(fails(StoreCommand.newBuilder().setV3Txn(t), "alice")).isEqualTo("etcdserver: permission denied");
    // a lease with a key alice may not write: she may neither revoke it nor attach her keys to it
    apply(StoreCommand.newBuilder().setV3LeaseGrant(LeaseGrantRequest.newBuilder().setID(7).setTTL(60)).build());
    apply(StoreCommand.newBuilder().setV3Put(PutRequest.newBuilder().setKey(b("secret")).setLease(7)).build());
    assertThat(fails(StoreCommand.newBuilder().setV3LeaseRevoke(LeaseRevokeRequest.newBuilder().setID(7)), "alice"))
        .isEqualTo("etcdserver: permission denied");
    assertThat(fails(StoreCommand.newBuilder().setV3Put(PutRequest.newBuilder().setKey(b("pub/l")).setLease(7)),
        "alice")).isEqualTo("etcdserver: permission denied");
    // after auth disable nothing is checked
    ok(AuthCommand.newBuilder().setDisable(AuthDisableRequest.getDefaultInstance()), "root");
    assertThat(apply(as(put("other"), ""))).isInstanceOf(ApplyOutcome.V3Done.class);
  }

  @Test
  void rangePermissionsCoverPrefixesFromKeyAndUnions() throws Exception {
    rootAndAlice();
    ok(grant("pub", Permission.Type.READ, "a", "c"), null);
    ok(grant("pub", Permission.Type.READ, "c", "e"), null);
    ok(grant("pub", Permission.Type.READ, "x", "\0"), null);
    ok(enable(), null);
    AuthStore a = disk.machine().auth();
    a.checkRange("alice", b("a"), b("e"));   // two touching grants cover [a, e)
    a.checkRange("alice", b("b"), ByteString.EMPTY);
    a.checkRange("alice", b("x"), b("\0"));  // from key
    a.checkRange("alice", b("zzz"), ByteString.EMPTY);
    a.checkRange("alice", b("pub/"), b("pub0"));
    assertThatThrownBy(() -> a.checkRange("alice", b("a"), b("f"))).hasMessage("etcdserver: permission denied");
    assertThatThrownBy(() -> a.checkRange("alice", b("w"), b("\0"))).hasMessage("etcdserver: permission denied");
    assertThatThrownBy(() -> a.checkRange("alice", b("e"), ByteString.EMPTY)).hasMessage("etcdserver: permission denied");
    assertThatThrownBy(() -> a.checkPut("alice", b("b"))).hasMessage("etcdserver: permission denied");
    a.checkAdmin("root");
    assertThatThrownBy(() -> a.checkAdmin("alice")).hasMessage("etcdserver: permission denied");
    assertThatThrownBy(() -> a.checkAdmin("ghost")).hasMessage("etcdserver: user name not found");
  }

  @Test
  void tokensAreAssignedAtApplyAndDroppedWithTheirUser() {
    rootAndAlice();
    String early = failsAuth(AuthCommand.newBuilder().setAuthenticate(
        AuthAuthenticate.newBuilder().setName("alice").setTokenPrefix("abc")), null);
    assertThat(early).isEqualTo("etcdserver: authentication is not enabled");
    ok(enable(), null);
    String token = ((AuthenticateResponse) ok(AuthCommand.newBuilder().setAuthenticate(
        AuthAuthenticate.newBuilder().setName("alice").setTokenPrefix("abcdef")), null)).getToken();
    assertThat(token).isEqualTo("abcdef." + disk.lastIndex());
    assertThat(disk.machine().auth().tokens().user(token)).contains("alice");
    ok(AuthCommand.newBuilder().setUserDelete(AuthUserDeleteRequest.newBuilder().setName("alice")), "root");
    assertThat(disk.machine().auth().tokens().user(token)).isEmpty();
  }

  @Test
  void tokensExpireAfterTheirTtlUnlessUsed() {
    long[] now = {0};
    SimpleTokens tokens = new SimpleTokens(() -> now[0]);
    tokens.ttl(java.time.Duration.ofSeconds(300));
    tokens.assign("t.1", "alice");
    now[0] += 200_000_000_000L;
    assertThat(tokens.user("t.1")).contains("alice"); // used: good for 300 s more
    now[0] += 200_000_000_000L;
    assertThat(tokens.user("t.1")).contains("alice");
    now[0] += 300_000_000_001L;
    assertThat(tokens.user("t.1")).isEmpty();
  }

  @Test
  void authStateSurvivesRestartAndTravelsInSnapshots() throws Exception {
    rootAndAlice();
    ok(enable(), null);
    byte[] snapshot = disk.machine().snapshotState();
    long revision = disk.machine().auth().revision();
    disk.reopen();
    assertThat(disk.machine().auth().enabled()).isTrue();
    assertThat(disk.machine().auth().revision()).isEqualTo(revision);
    assertThat(disk.machine().auth().user("alice").orElseThrow().getRolesList()).containsExactly("pub");
    disk.machine().auth().checkPassword("alice", "alicepw");

    // a fresh member that installs the snapshot has the same users, roles and flag
    try (MvccStore other = MvccStore.open(tmp.resolve("other"))) {
      StoreStateMachine m2 = new StoreStateMachine(other);
      assertThat(m2.auth().enabled()).isFalse();
      m2.restoreState(snapshot);
      assertThat(m2.auth().enabled()).isTrue();
      assertThat(m2.auth().roleNames()).containsExactly("pub", "root");
      assertThat(m2.auth().role("pub").orElseThrow().getKeyPermissionCount()).isEqualTo(2);
    }
  }
}
