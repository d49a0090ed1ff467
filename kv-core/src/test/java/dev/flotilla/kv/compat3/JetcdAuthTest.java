package dev.flotilla.kv.compat3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.etcd.jetcd.Auth;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.auth.Permission;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * jetcd with {@code .user()/.password()} against etcd 3.4.23 and kvd: root sets up a user that may
 * read and write one prefix and enables auth; that user's puts, gets and watches inside the prefix
 * work, outside it they fail with etcd's "permission denied"; a client without credentials gets
 * "user name is empty".
 */
class JetcdAuthTest {
  private static ByteSequence bs(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"etcd", "kvd"})
  @Timeout(60)
  void userWithPermissionOnAPrefixOnly(String kind) throws Exception {
    try (V3Server server = V3Server.start(kind, "jetcd-auth")) {
      try (Client admin = Client.builder().endpoints(server.clientUrl()).build()) {
        Auth auth = admin.getAuthClient();
        auth.userAdd(bs("root"), bs("rootpw")).get(10, TimeUnit.SECONDS);
        auth.roleAdd(bs("root")).get(10, TimeUnit.SECONDS);
        auth.userGrantRole(bs("root"), bs("root")).get(10, TimeUnit.SECONDS);
        auth.userAdd(bs("app"), bs("apppw")).get(10, TimeUnit.SECONDS);
        auth.roleAdd(bs("app-rw")).get(10, TimeUnit.SECONDS);
        auth.roleGrantPermission(bs("app-rw"), bs("app/"), bs("app0"), Permission.Type.READWRITE)
            .get(10, TimeUnit.SECONDS);
        auth.userGrantRole(bs("app"), bs("app-rw")).get(10, TimeUnit.SECONDS);
        admin.getKVClient().put(bs("secret"), bs("s")).get(10, TimeUnit.SECONDS);
        auth.authEnable().get(10, TimeUnit.SECONDS);
      }
      try (Client app = Client.builder().endpoints(server.clientUrl()).user(bs("app")).password(bs("apppw")).build()) {
        app.getKVClient().put(bs("app/a"), bs("1")).get(10, TimeUnit.SECONDS);
        assertThat(app.getKVClient().get(bs("app/a")).get(10, TimeUnit.SECONDS).getKvs().get(0).getValue())
            .isEqualTo(bs("1"));
        assertThatThrownBy(() -> app.getKVClient().put(bs("secret"), bs("x")).get(10, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class).hasMessageContaining("etcdserver: permission denied");
        assertThatThrownBy(() -> app.getKVClient().get(bs("secret")).get(10, TimeUnit.SECONDS))
            .hasMessageContaining("etcdserver: permission denied");

        CompletableFuture<WatchEvent> seen = new CompletableFuture<>();
        try (Watch.Watcher w = app.getWatchClient().watch(bs("app/"),
            WatchOption.builder().isPrefix(true).build(), r -> r.getEvents().forEach(seen::complete))) {
          app.getKVClient().put(bs("app/b"), bs("2")).get(10, TimeUnit.SECONDS);
          assertThat(seen.get(10, TimeUnit.SECONDS).getKeyValue().getKey()).isEqualTo(bs("app/b"));
        }
      }
      try (Client anonymous = Client.builder().endpoints(server.clientUrl()).build()) {
        assertThatThrownBy(() -> anonymous.getKVClient().get(bs("app/a")).get(10, TimeUnit.SECONDS))
            .hasMessageContaining("etcdserver: user name is empty");
      }
      // Flotilla's own client with a user, as fleetd --etcd-username/--etcd-password makes it
      try (var store = dev.flotilla.kv.client.JetcdStoreClient.connect(java.util.List.of(server.clientUrl()),
          java.time.Duration.ofSeconds(10), "app", "apppw")) {
        store.put(com.google.protobuf.ByteString.copyFromUtf8("app/c"), com.google.protobuf.ByteString.copyFromUtf8("3"));
        assertThatThrownBy(() -> store.put(com.google.protobuf.ByteString.copyFromUtf8("secret"),
            com.google.protobuf.ByteString.copyFromUtf8("x"))).hasMessageContaining("etcdserver: permission denied");
      }
      try (Client root = Client.builder().endpoints(server.clientUrl()).user(bs("root")).password(bs("rootpw")).build()) {
        assertThat(root.getKVClient().get(bs("secret")).get(10, TimeUnit.SECONDS).getKvs()).hasSize(1);
        root.getAuthClient().authDisable().get(10, TimeUnit.SECONDS);
      }
    }
  }
}
