package dev.flotilla.kv.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.flotilla.proto.etcd.etcdserverpb.AuthGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.AuthenticateRequest;
import dev.flotilla.proto.etcd.etcdserverpb.KVGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.PutRequest;
import dev.flotilla.proto.etcd.etcdserverpb.RangeRequest;
import io.etcd.jetcd.Auth;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.auth.Permission;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Auth on three kvd processes: users, roles and the enabled flag set through one member are
 * enforced by the others (the auth state is replicated through the log); a simple token issued by
 * one member works on the others once they applied its Authenticate (as in etcd), and a user
 * without permission gets "etcdserver: permission denied" from any member.
 */
class ClusterAuthTest {
  @TempDir
  Path tmp;

  private static ByteSequence bs(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  private static ManagedChannel channel(URI url) {
    return NettyChannelBuilder.forAddress(url.getHost(), url.getPort()).usePlaintext().build();
  }

  /** Polls {@code check} until it holds or 10 s pass (a member applies what another committed a little later). */
  private static <T> T eventually(Supplier<T> attempt, java.util.function.Predicate<T> done) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    T last = attempt.get();
    while (!done.test(last) && System.nanoTime() < deadline) {
      Thread.sleep(50);
      last = attempt.get();
    }
    return last;
  }

  @Test
  @Timeout(180)
  void authEnabledThroughOneMemberHoldsOnTheOthers() throws Exception {
    try (KvdCluster cluster = new KvdCluster(tmp.resolve("kvd"), 3)) {
      cluster.startAll();
      assertThat(cluster.awaitLeader(Duration.ofSeconds(60))).as("a leader\n%s", cluster.logs()).isNotNull();
      List<URI> urls = cluster.clientUrls();
      URI a = urls.get(0);
      URI b = urls.get(1);
      URI c = urls.get(2);

      try (Client admin = Client.builder().endpoints(a).build()) {
        Auth auth = admin.getAuthClient();
        auth.userAdd(bs("root"), bs("rootpw")).get(20, TimeUnit.SECONDS);
        auth.userGrantRole(bs("root"), bs("root")).get(20, TimeUnit.SECONDS);
        auth.userAdd(bs("alice"), bs("alicepw")).get(20, TimeUnit.SECONDS);
        auth.roleAdd(bs("app")).get(20, TimeUnit.SECONDS);
        auth.roleGrantPermission(bs("app"), bs("app/"), bs("app0"), Permission.Type.READWRITE).get(20, TimeUnit.SECONDS);
        auth.userGrantRole(bs("alice"), bs("app")).get(20, TimeUnit.SECONDS);
        auth.authEnable().get(20, TimeUnit.SECONDS);
      }

      ManagedChannel chB = channel(b);
      ManagedChannel chC = channel(c);
      ManagedChannel chA = channel(a);
      try {
        // member C refuses a request without a user once it has applied the enable
        String refusal = eventually(() -> {
          try {
            KVGrpc.newBlockingStub(chC).withDeadlineAfter(5, TimeUnit.SECONDS)
                .range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("app/x")).build());
            return "served";
          } catch (StatusRuntimeException e) {
            return e.getStatus().getDescription();
          }
        }, s -> !s.equals("served"));
        assertThat(refusal).isEqualTo("etcdserver: user name is empty");

        // a token issued by member A is good on member B
        String token = AuthGrpc.newBlockingStub(chA).withDeadlineAfter(10, TimeUnit.SECONDS)
            .authenticate(AuthenticateRequest.newBuilder().setName("alice").setPassword("alicepw").build()).getToken();
        Metadata md = new Metadata();
        md.put(Metadata.Key.of("token", Metadata.ASCII_STRING_MARSHALLER), token);
        var aliceOnB = KVGrpc.newBlockingStub(chB).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
        String put = eventually(() -> {
          try {
            aliceOnB.withDeadlineAfter(5, TimeUnit.SECONDS).put(PutRequest.newBuilder()
                .setKey(ByteString.copyFromUtf8("app/x")).setValue(ByteString.copyFromUtf8("1")).build());
            return "ok";
          } catch (StatusRuntimeException e) {
            return e.getStatus().getDescription();
          }
        }, s -> s.equals("ok"));
        assertThat(put).isEqualTo("ok");
        assertThatThrownBy(() -> aliceOnB.withDeadlineAfter(5, TimeUnit.SECONDS).put(PutRequest.newBuilder()
            .setKey(ByteString.copyFromUtf8("secret")).setValue(ByteString.copyFromUtf8("1")).build()))
            .isInstanceOf(StatusRuntimeException.class).hasMessage("PERMISSION_DENIED: etcdserver: permission denied");
        assertThatThrownBy(() -> KVGrpc.newBlockingStub(chB).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(
            bogus())).withDeadlineAfter(5, TimeUnit.SECONDS)
            .range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("app/x")).build()))
            .hasMessage("UNAUTHENTICATED: etcdserver: invalid auth token");
      } finally {
        chA.shutdownNow();
        chB.shutdownNow();
        chC.shutdownNow();
      }

      // jetcd as alice on member C: permitted inside her prefix, denied outside it
      try (Client alice = Client.builder().endpoints(c).user(bs("alice")).password(bs("alicepw")).build()) {
        assertThat(alice.getKVClient().get(bs("app/x")).get(20, TimeUnit.SECONDS).getKvs().get(0).getValue())
            .isEqualTo(bs("1"));
        assertThatThrownBy(() -> alice.getKVClient().get(bs("secret")).get(20, TimeUnit.SECONDS))
            .hasMessageContaining("etcdserver: permission denied");
        // membership changes need root, also through a follower
        assertThatThrownBy(() -> alice.getClusterClient().addMember(List.of(URI.create("http://127.0.0.1:1")))
            .get(20, TimeUnit.SECONDS)).hasMessageContaining("etcdserver: permission denied");
      }
    }
  }

  private static Metadata bogus() {
    Metadata md = new Metadata();
    md.put(Metadata.Key.of("token", Metadata.ASCII_STRING_MARSHALLER), "notatoken.1");
    return md;
  }
}
