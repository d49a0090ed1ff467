package dev.flotilla.kv.compat3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.kv.compat.ClientRun;
import io.etcd.jetcd.Auth;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.auth.Permission;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * v3 auth applied to {@code /v2/keys} and the v3 JSON gateway on kvd (etcd 3.4 leaves v2 unchecked, so there is no oracle
 * here): plain HTTP with and without Basic credentials, and {@code ETCDCTL_API=2 etcdctl
 * --username}. The v2 path is the key the v3 permission is checked on.
 */
class V2AuthTest {
  private static final String NO_AUTH =
      "{\"errorCode\":110,\"message\":\"The request requires user authentication\",\"cause\":\"Insufficient credentials\",\"index\":0}";
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private static ByteSequence bs(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  private HttpResponse<String> call(URI base, String method, String path, String form, String userPass) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10))
        .method(method, form == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(form));
    if (form != null) {
      b.header("Content-Type", "application/x-www-form-urlencoded");
    }
    if (userPass != null) {
      b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(userPass.getBytes(StandardCharsets.UTF_8)));
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private HttpResponse<String> post(URI base, String path, String json, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10))
        .POST(HttpRequest.BodyPublishers.ofString(json));
    if (token != null) {
      b.header("Authorization", token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static ClientRun.Result etcdctl2(URI url, String... args) {
    List<String> cmd = new ArrayList<>(List.of(Tools3.etcdctl().toString(), "--endpoints", url.toString()));
    cmd.addAll(List.of(args));
    return ClientRun.run(cmd, Map.of("ETCDCTL_API", "2"), null, Duration.ofSeconds(15));
  }

  @Test
  @Timeout(90)
  void v2KeysFollowV3UsersAndPermissions() throws Exception {
    Path etcdctl = Tools3.etcdctl();
    assertThat(etcdctl).isNotNull();
    try (V3Server kvd = V3Server.start("kvd", "v2-auth")) {
      URI url = kvd.clientUrl();
      // before auth is on, v2 needs no credentials
      assertThat(call(url, "PUT", "/v2/keys/app/a", "value=1", null).statusCode()).isEqualTo(201);
      try (Client admin = Client.builder().endpoints(url).build()) {
        Auth auth = admin.getAuthClient();
        auth.userAdd(bs("root"), bs("rootpw")).get(10, TimeUnit.SECONDS);
        auth.userGrantRole(bs("root"), bs("root")).get(10, TimeUnit.SECONDS);
        auth.userAdd(bs("alice"), bs("alicepw")).get(10, TimeUnit.SECONDS);
        auth.roleAdd(bs("app")).get(10, TimeUnit.SECONDS);
        auth.roleGrantPermission(bs("app"), bs("/app"), ByteSequence.EMPTY, Permission.Type.READ)
            .get(10, TimeUnit.SECONDS);
        auth.roleGrantPermission(bs("app"), bs("/app/"), bs("/app0"), Permission.Type.READWRITE)
            .get(10, TimeUnit.SECONDS);
        auth.roleGrantPermission(bs("app"), bs("/ro"), ByteSequence.EMPTY, Permission.Type.READ)
            .get(10, TimeUnit.SECONDS);
        auth.userGrantRole(bs("alice"), bs("app")).get(10, TimeUnit.SECONDS);
        auth.authEnable().get(10, TimeUnit.SECONDS);
      }

      HttpResponse<String> anonymous = call(url, "GET", "/v2/keys/app/a", null, null);
      assertThat(anonymous.statusCode()).isEqualTo(401);
      assertThat(anonymous.body().strip()).isEqualTo(NO_AUTH);
      assertThat(call(url, "GET", "/v2/keys/app/a", null, "alice:wrong").statusCode()).isEqualTo(401);
      assertThat(call(url, "GET", "/v2/keys/app/a", null, "nobody:x").statusCode()).isEqualTo(401);

      HttpResponse<String> get = call(url, "GET", "/v2/keys/app/a", null, "alice:alicepw");
      assertThat(get.statusCode()).isEqualTo(200);
      assertThat(get.body()).contains("\"value\":\"1\"");
      assertThat(call(url, "PUT", "/v2/keys/app/b", "value=2", "alice:alicepw").statusCode()).isEqualTo(201);
      assertThat(call(url, "GET", "/v2/keys/app?recursive=true", null, "alice:alicepw").statusCode()).isEqualTo(200);
      assertThat(call(url, "POST", "/v2/keys/app/queue", "value=job", "alice:alicepw").statusCode()).isEqualTo(201);
      HttpResponse<String> outside = call(url, "PUT", "/v2/keys/other", "value=x", "alice:alicepw");
      assertThat(outside.statusCode()).isEqualTo(401);
      assertThat(outside.body().strip()).isEqualTo(NO_AUTH);
      assertThat(call(url, "PUT", "/v2/keys/ro", "value=x", "alice:alicepw").statusCode()).isEqualTo(401);
      // the root directory lists everything: alice may not, root may
      assertThat(call(url, "GET", "/v2/keys/", null, "alice:alicepw").statusCode()).isEqualTo(401);
      assertThat(call(url, "GET", "/v2/keys/?recursive=true", null, "root:rootpw").statusCode()).isEqualTo(200);
      assertThat(call(url, "PUT", "/v2/keys/other", "value=r", "root:rootpw").statusCode()).isEqualTo(201);

      // etcdctl v2 with --username
      ClientRun.Result set = etcdctl2(url, "--username", "alice:alicepw", "set", "/app/c", "3");
      assertThat(set.exitCode()).as("%s", set).isZero();
      assertThat(set.stdout().strip()).isEqualTo("3");
      ClientRun.Result got = etcdctl2(url, "--username", "alice:alicepw", "get", "/app/c");
      assertThat(got.stdout().strip()).isEqualTo("3");
      ClientRun.Result denied = etcdctl2(url, "--username", "alice:alicepw", "set", "/other", "4");
      assertThat(denied.exitCode()).as("%s", denied).isNotZero();
      assertThat(denied.stderr()).contains("110: The request requires user authentication (Insufficient credentials)");
      ClientRun.Result none = etcdctl2(url, "get", "/app/c");
      assertThat(none.exitCode()).isNotZero();
      assertThat(none.stderr()).contains("The request requires user authentication");

      // the v3 JSON gateway on the same port: a token from /v3/auth/authenticate in Authorization
      HttpResponse<String> anonymousPut = post(url, "/v3/kv/put", "{\"key\":\"" + b64("/app/g") + "\"}", null);
      assertThat(anonymousPut.body()).contains("etcdserver: user name is empty");
      HttpResponse<String> login = post(url, "/v3/auth/authenticate", "{\"name\":\"alice\",\"password\":\"alicepw\"}", null);
      assertThat(login.statusCode()).as(login.body()).isEqualTo(200);
      String token = new com.fasterxml.jackson.databind.ObjectMapper().readTree(login.body()).path("token").asText();
      assertThat(post(url, "/v3/kv/put", "{\"key\":\"" + b64("/app/g") + "\"}", token).statusCode()).isEqualTo(200);
      HttpResponse<String> gwDenied = post(url, "/v3/kv/put", "{\"key\":\"" + b64("other") + "\"}", token);
      assertThat(gwDenied.statusCode()).isEqualTo(403);
      assertThat(gwDenied.body()).contains("etcdserver: permission denied");
      assertThat(post(url, "/v3/kv/range", "{\"key\":\"" + b64("/app/g") + "\"}", "bogus").body())
          .contains("etcdserver: invalid auth token");

      // auth disabled: v2 is open again
      try (Client root = Client.builder().endpoints(url).user(bs("root")).password(bs("rootpw")).build()) {
        root.getAuthClient().authDisable().get(10, TimeUnit.SECONDS);
      }
      assertThat(call(url, "PUT", "/v2/keys/other", "value=open", null).statusCode()).isEqualTo(200);
    }
  }
}
