package dev.flotilla.kv.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.flotilla.kv.client.JetcdStoreClient;
import dev.flotilla.kv.client.KeyRange;
import dev.flotilla.kv.embed.EmbeddedKv;
import dev.flotilla.kv.embed.KvConfig;
import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member serving its client URL over TLS only, with client certificates required: HTTP/1.1
 * (v2 keys) and gRPC (v3) on the one https port, refusals of plaintext and of strangers'
 * certificates, and a certificate rotated on disk served without a restart.
 */
class ClientTlsTest {
  @TempDir Path dir;
  TestPki pki;
  TestPki.Issued server;
  TestPki.Issued client;
  EmbeddedKv kv;
  URI url;

  @BeforeEach
  void start() throws Exception {
    pki = TestPki.create(dir.resolve("pki"));
    server = pki.issue("server");
    client = pki.issue("client");
    kv = EmbeddedKv.start(KvConfig.builder(dir.resolve("data")).name("tls")
        .listenClientUrl("https://127.0.0.1:0")
        .clientTls(TlsSettings.client(server.cert(), server.key(), pki.caFile(), true))
        .build());
    url = kv.clientUrls().get(0);
    assertThat(url.getScheme()).isEqualTo("https");
  }

  @AfterEach
  void stop() {
    if (kv != null) {
      kv.close();
    }
  }

  private static HttpClient https(TlsSettings tls) throws IOException {
    try (TlsCredentials creds = TlsCredentials.load(tls)) { // closing stops the reload checks only
      return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).sslContext(creds.jdkClient()).build();
    }
  }

  private static HttpResponse<String> put(HttpClient http, URI base, String key, String value) throws Exception {
    return http.send(HttpRequest.newBuilder(base.resolve("/v2/keys/" + key))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .PUT(HttpRequest.BodyPublishers.ofString("value=" + value)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void v2AndGrpcWorkWithATrustedClientCertificate() throws Exception {
    HttpClient http = https(TlsSettings.tool(pki.caFile(), client.cert(), client.key()));
    assertThat(put(http, url, "greeting", "hello").statusCode()).isEqualTo(201);
    HttpResponse<String> got = http.send(HttpRequest.newBuilder(url.resolve("/v2/keys/greeting")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(got.body()).contains("\"value\":\"hello\"");
    assertThat(got.version()).isEqualTo(HttpClient.Version.HTTP_1_1);

    try (var creds = TlsCredentials.load(TlsSettings.tool(pki.caFile(), client.cert(), client.key()));
         var v3 = JetcdStoreClient.connect(List.of(url), Duration.ofSeconds(10), creds)) {
      v3.put(ByteString.copyFromUtf8("/v3key"), ByteString.copyFromUtf8("over-grpc"));
      assertThat(v3.get(KeyRange.key(ByteString.copyFromUtf8("/v3key"))).kvs().get(0).value().toStringUtf8())
          .isEqualTo("over-grpc");
    }
  }

  @Test
  void plaintextClientIsRefused() {
    HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    URI http = URI.create("http://127.0.0.1:" + url.getPort() + "/v2/keys/");
    assertThatThrownBy(() -> plain.send(HttpRequest.newBuilder(http).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString())).isInstanceOf(IOException.class);
  }

  @Test
  void clientCertificateFromAnotherCaIsRefused() throws Exception {
    TestPki.Issued stranger = pki.issueFromOtherCa("stranger");
    HttpClient http = https(TlsSettings.tool(pki.caFile(), stranger.cert(), stranger.key()));
    assertThatThrownBy(() -> put(http, url, "k", "v")).isInstanceOf(IOException.class);
    HttpClient noCert = https(TlsSettings.tool(pki.caFile(), null, null));
    assertThatThrownBy(() -> put(noCert, url, "k", "v")).isInstanceOf(IOException.class);
    // and the store has not been written
    HttpClient good = https(TlsSettings.tool(pki.caFile(), client.cert(), client.key()));
    assertThat(good.send(HttpRequest.newBuilder(url.resolve("/v2/keys/k")).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
  }

  @Test
  void serverCertificateFromAnotherCaIsNotTrustedByClients() throws Exception {
    HttpClient http = https(TlsSettings.tool(pki.otherCaFile(), client.cert(), client.key()));
    assertThatThrownBy(() -> put(http, url, "k", "v")).isInstanceOf(IOException.class);
  }

  @Test
  void rotatedCertificateIsServedWithoutARestart() throws Exception {
    assertThat(servedSerial()).isEqualTo(server.serial());
    TestPki.Issued next = pki.reissue("server", dir.resolve("next"));
    // the key first, then the certificate, each replaced atomically (as cert-manager or a script would)
    Files.move(next.key(), server.key(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    // a new key beside the old certificate is not a pair: the old pair stays in use, handshakes go on
    long halfway = System.nanoTime() + Duration.ofMillis(2500).toNanos();
    while (System.nanoTime() < halfway) {
      assertThat(servedSerial()).isEqualTo(server.serial());
      java.util.concurrent.locks.LockSupport.parkNanos(100_000_000L);
    }
    Files.move(next.cert(), server.cert(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    BigInteger served = servedSerial();
    while (!served.equals(next.serial()) && System.nanoTime() < deadline) {
      java.util.concurrent.locks.LockSupport.parkNanos(100_000_000L); // poll interval; the loop checks the condition
      served = servedSerial();
    }
    assertThat(served).isEqualTo(next.serial());
    // and the new certificate works for requests
    HttpClient http = https(TlsSettings.tool(pki.caFile(), client.cert(), client.key()));
    assertThat(put(http, url, "after-rotation", "yes").statusCode()).isEqualTo(201);
  }

  /** The serial number of the certificate the member presents to a new connection. */
  private BigInteger servedSerial() throws Exception {
    javax.net.ssl.SSLContext ctx;
    try (TlsCredentials creds = TlsCredentials.load(TlsSettings.tool(pki.caFile(), client.cert(), client.key()))) {
      ctx = creds.jdkClient();
    }
    try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", url.getPort())) {
      s.startHandshake();
      return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSerialNumber();
    }
  }

  @Test
  void onlyTls12AndNewerAreNegotiated() throws Exception {
    javax.net.ssl.SSLContext ctx;
    try (TlsCredentials creds = TlsCredentials.load(TlsSettings.tool(pki.caFile(), client.cert(), client.key()))) {
      ctx = creds.jdkClient();
    }
    try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", url.getPort())) {
      s.setEnabledProtocols(new String[] {"TLSv1.1", "TLSv1"});
      assertThatThrownBy(s::startHandshake).isInstanceOf(IOException.class);
    }
  }

  @Test
  void missingCertificateFileIsNamedWithItsFlag() throws Exception {
    Path missing = dir.resolve("nope.pem");
    assertThatThrownBy(() -> EmbeddedKv.start(KvConfig.builder(dir.resolve("data2"))
        .listenClientUrl("https://127.0.0.1:0")
        .clientTls(TlsSettings.client(missing, server.key(), null, false)).build()))
        .hasMessage("--cert-file " + missing + ": no such file");
    assertThatThrownBy(() -> KvConfig.builder(dir.resolve("data3")).listenClientUrl("https://127.0.0.1:0").build())
        .hasMessageContaining("give --cert-file and --key-file");
    TestPki.Issued other = pki.issue("other");
    assertThatThrownBy(() -> EmbeddedKv.start(KvConfig.builder(dir.resolve("data4"))
        .listenClientUrl("https://127.0.0.1:0")
        .clientTls(TlsSettings.client(server.cert(), other.key(), null, false)).build()))
        .hasMessageContaining("--key-file " + other.key() + " is not the key of --cert-file " + server.cert());
  }
}
