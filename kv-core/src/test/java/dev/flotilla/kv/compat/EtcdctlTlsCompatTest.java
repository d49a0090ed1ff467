package dev.flotilla.kv.compat;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.kv.embed.EmbeddedKv;
import dev.flotilla.kv.embed.KvConfig;
import dev.flotilla.kv.tls.TestPki;
import dev.flotilla.kv.tls.TlsSettings;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real etcdctl (v2 and v3 APIs) against a kvd and a real etcd that serve the same certificates,
 * https only, client certificates required: what works and what is refused must match.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EtcdctlTlsCompatTest {
  @TempDir static Path dir;
  TestPki pki;
  TestPki.Issued server;
  TestPki.Issued client;
  TestPki.Issued stranger;
  Process etcd;
  EmbeddedKv kvd;
  String etcdUrl;
  String kvdUrl;

  @BeforeAll
  void start() throws Exception {
    Path etcdctl = EtcdProcess.findOnPath("etcdctl");
    Tools.require(etcdctl != null, "no `etcdctl` on PATH: install Debian's etcd-client (etcdctl 3.4.23)");
    Path etcdBin = EtcdProcess.requireEtcd();
    pki = TestPki.create(dir.resolve("pki"));
    server = pki.issue("server");
    client = pki.issue("client");
    stranger = pki.issueFromOtherCa("stranger");

    int port = EtcdProcess.freePort();
    int peer = EtcdProcess.freePort();
    etcdUrl = "https://127.0.0.1:" + port;
    Path log = EtcdProcess.logDir().resolve("etcd-tls-" + port + ".log");
    etcd = new ProcessBuilder(etcdBin.toString(), "--name", "default", "--enable-v2=true",
        "--data-dir", dir.resolve("etcd-data").toString(),
        "--listen-client-urls", etcdUrl, "--advertise-client-urls", etcdUrl,
        "--listen-peer-urls", "http://127.0.0.1:" + peer,
        "--initial-advertise-peer-urls", "http://127.0.0.1:" + peer,
        "--initial-cluster", "default=http://127.0.0.1:" + peer,
        "--cert-file", server.certFile(), "--key-file", server.keyFile(),
        "--trusted-ca-file", pki.caFile().toString(), "--client-cert-auth")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    Runtime.getRuntime().addShutdownHook(new Thread(etcd::destroyForcibly));

    kvd = EmbeddedKv.start(KvConfig.builder(dir.resolve("kvd-data")).name("default")
        .listenClientUrl("https://127.0.0.1:0")
        .clientTls(TlsSettings.client(server.cert(), server.key(), pki.caFile(), true)).build());
    kvdUrl = kvd.clientUrls().get(0).toString();

    // etcd serves once the v3 endpoint health answers
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    Run r = v3(etcdUrl, client, "endpoint", "health");
    while (r.exit != 0 && System.nanoTime() < deadline && etcd.isAlive()) {
      etcd.waitFor(200, TimeUnit.MILLISECONDS); // poll interval
      r = v3(etcdUrl, client, "endpoint", "health");
    }
    assertThat(r.exit).as("etcd with TLS did not become healthy: " + r + "; log " + log).isZero();
  }

  @AfterAll
  void stop() throws Exception {
    if (kvd != null) {
      kvd.close();
    }
    if (etcd != null) {
      etcd.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  record Run(int exit, String out, String err) {}

  private Run v3(String url, TestPki.Issued cert, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("etcdctl", "--endpoints", url, "--dial-timeout", "3s",
        "--command-timeout", "10s", "--cacert", pki.caFile().toString()));
    if (cert != null) {
      cmd.addAll(List.of("--cert", cert.certFile(), "--key", cert.keyFile()));
    }
    cmd.addAll(List.of(args));
    return run(cmd, "3");
  }

  private Run v2(String url, TestPki.Issued cert, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("etcdctl", "--endpoints", url, "--timeout", "5s",
        "--total-timeout", "10s", "--ca-file", pki.caFile().toString()));
    if (cert != null) {
      cmd.addAll(List.of("--cert-file", cert.certFile(), "--key-file", cert.keyFile()));
    }
    cmd.addAll(List.of(args));
    return run(cmd, "2");
  }

  private static Run run(List<String> cmd, String api) throws Exception {
    ClientRun.Result r = ClientRun.run(cmd, Map.of("ETCDCTL_API", api), null, Duration.ofSeconds(60));
    if (r.killed()) {
      throw new IOException("etcdctl " + cmd + " did not finish in 60 s");
    }
    return new Run(r.exitCode(), r.stdout(), r.stderr());
  }

  @Test
  void v3PutAndGetWithTheRightCertificates() throws Exception {
    for (String url : List.of(etcdUrl, kvdUrl)) {
      Run put = v3(url, client, "put", "tls-key", "tls-value");
      assertThat(put.out).as(url + " " + put).isEqualTo("OK\n");
      Run get = v3(url, client, "get", "tls-key");
      assertThat(get.out).as(url + " " + get).isEqualTo("tls-key\ntls-value\n");
    }
  }

  @Test
  void v2SetAndGetWithTheRightCertificates() throws Exception {
    for (String url : List.of(etcdUrl, kvdUrl)) {
      Run set = v2(url, client, "set", "/tls2", "v2-value");
      assertThat(set.out).as(url + " " + set).isEqualTo("v2-value\n");
      Run get = v2(url, client, "get", "/tls2");
      assertThat(get.out).as(url + " " + get).isEqualTo("v2-value\n");
      Run ls = v2(url, client, "ls", "/");
      assertThat(ls.out).as(url + " " + ls).contains("/tls2");
    }
  }

  @Test
  void strangersAndPlaintextAreRefusedByBoth() throws Exception {
    for (String url : List.of(etcdUrl, kvdUrl)) {
      Run other = v3(url, stranger, "put", "nope", "x");
      assertThat(other.exit).as(url + " " + other).isNotZero();
      Run noCert = v3(url, null, "put", "nope", "x");
      assertThat(noCert.exit).as(url + " " + noCert).isNotZero();
      Run v2Other = v2(url, stranger, "set", "/nope", "x");
      assertThat(v2Other.exit).as(url + " " + v2Other).isNotZero();
      Run plain = run(List.of("etcdctl", "--endpoints", url.replace("https://", "http://"), "--dial-timeout", "3s",
          "--command-timeout", "5s", "put", "nope", "x"), "3");
      assertThat(plain.exit).as(url + " " + plain).isNotZero();
      Run check = v3(url, client, "get", "nope");
      assertThat(check.out).as(url + " " + check).isEmpty();
    }
  }
}
