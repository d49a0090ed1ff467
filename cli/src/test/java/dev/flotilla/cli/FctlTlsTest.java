package dev.flotilla.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.agent.Fleetd;
import dev.flotilla.kv.embed.EmbeddedKv;
import dev.flotilla.kv.embed.KvConfig;
import dev.flotilla.kv.tls.TestPki;
import dev.flotilla.kv.tls.TlsSettings;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * fleetd and fctl with TLS: fleetd serving its API on https (client certificates required with
 * --ca-file) and its embedded store on https, or reaching a TLS-only kvd through jetcd; fctl
 * listing machines over https with --ca-file/--cert-file/--key-file, refused without them.
 */
class FctlTlsTest {
  static final String MACHINE = "7a1e0c0ffee04b1d9a7e3c2f1d0b9a87";

  @TempDir Path dir;

  record Run(int exit, String out, String err) {}

  private static Run fctl(String endpoint, List<String> tls, String... args) {
    List<String> all = new ArrayList<>(List.of("--endpoint", endpoint));
    all.addAll(tls);
    all.addAll(List.of(args));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      exit = Fctl.run(all.toArray(new String[0]), o, e, Map.of());
    }
    return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private static List<String> tlsFlags(TestPki pki, TestPki.Issued cert) {
    return List.of("--ca-file", pki.caFile().toString(), "--cert-file", cert.certFile(), "--key-file", cert.keyFile());
  }

  private static String apiUrl(Fleetd.Fleet fleet) {
    return "https://127.0.0.1:" + ((InetSocketAddress) fleet.api().boundAddresses().get(0)).getPort();
  }

  /** list-machines until the machine shows (the agent publishes it shortly after start). */
  private static Run listMachinesUntilSeen(String endpoint, List<String> tls) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    Run r = fctl(endpoint, tls, "list-machines", "--full", "--no-legend");
    while (!r.out.contains(MACHINE) && System.nanoTime() < deadline) {
      java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100)); // poll interval
      r = fctl(endpoint, tls, "list-machines", "--full", "--no-legend");
    }
    return r;
  }

  @Test
  void embeddedStoreAndApiOverTls() throws Exception {
    TestPki pki = TestPki.create(dir.resolve("pki"));
    TestPki.Issued server = pki.issue("fleetd");
    TestPki.Issued client = pki.issue("operator");
    String storeUrl = "https://127.0.0.1:" + RealFleetd.freePort();
    Fleetd fleetd = new Fleetd();
    new CommandLine(fleetd).parseArgs("--embedded-store", "--runtime", "process",
        "--data-dir", dir.resolve("data").toString(), "--listen-client-urls", storeUrl,
        "--api-listen", "https://127.0.0.1:0", "--machine-id", MACHINE, "--public-ip", "127.0.0.1",
        "--ca-file", pki.caFile().toString(), "--cert-file", server.certFile(), "--key-file", server.keyFile());
    try (Fleetd.Fleet fleet = fleetd.start()) {
      String api = apiUrl(fleet);
      Run ok = listMachinesUntilSeen(api, tlsFlags(pki, client));
      assertThat(ok.exit).as(ok.err).isZero();
      assertThat(ok.out).contains(MACHINE).contains("127.0.0.1");
      assertThat(fleet.agent()).isNotNull();

      Run noCert = fctl(api, List.of("--ca-file", pki.caFile().toString()), "list-machines");
      assertThat(noCert.exit).isEqualTo(1);
      // the alert names the certificate: certificate_required (BoringSSL), bad_certificate (the JDK)
      assertThat(noCert.err).contains("refused the TLS connection").containsIgnoringCase("certificate")
          .contains("check --ca-file, --cert-file and --key-file");
      Run stranger = fctl(api, tlsFlags(pki, pki.issueFromOtherCa("stranger")), "list-machines");
      assertThat(stranger.exit).isEqualTo(1);
      Run wrongCa = fctl(api, List.of("--ca-file", pki.otherCaFile().toString(), "--cert-file", client.certFile(),
          "--key-file", client.keyFile()), "list-machines");
      assertThat(wrongCa.err).contains("TLS handshake failed");
      Run plain = fctl(api.replace("https://", "http://"), List.of(), "list-machines");
      assertThat(plain.exit).isEqualTo(1);

      // the embedded store serves etcdctl over https with the same CA, and only with a client certificate
      Run keys = etcdctl(storeUrl, pki, client, "get", "--prefix", "--keys-only", "/flotilla/");
      assertThat(keys.exit).as(keys.err).isZero();
      assertThat(keys.out).contains(MACHINE);
      Run anonymous = etcdctl(storeUrl, pki, null, "get", "x");
      assertThat(anonymous.exit).isNotZero();
    }
  }

  @Test
  void fleetdReachesATlsOnlyStoreWithTheEtcdFlagAliases() throws Exception {
    TestPki pki = TestPki.create(dir.resolve("pki"));
    TestPki.Issued store = pki.issue("kvd");
    TestPki.Issued agent = pki.issue("fleetd");
    try (EmbeddedKv kv = EmbeddedKv.start(KvConfig.builder(dir.resolve("kvd")).name("kvd")
        .listenClientUrl("https://127.0.0.1:0")
        .clientTls(TlsSettings.client(store.cert(), store.key(), pki.caFile(), true)).build())) {
      Fleetd fleetd = new Fleetd();
      new CommandLine(fleetd).parseArgs("--endpoints", kv.clientUrls().get(0).toString(), "--runtime", "process",
          "--data-dir", dir.resolve("data").toString(), "--api-listen", "https://127.0.0.1:0",
          "--machine-id", MACHINE, "--public-ip", "127.0.0.1",
          "--etcd-cafile", pki.caFile().toString(), "--etcd-certfile", agent.certFile(),
          "--etcd-keyfile", agent.keyFile());
      try (Fleetd.Fleet fleet = fleetd.start()) {
        Run ok = listMachinesUntilSeen(apiUrl(fleet), tlsFlags(pki, pki.issue("operator")));
        assertThat(ok.exit).as(ok.err).isZero();
        assertThat(ok.out).contains(MACHINE);
      }
    }
  }

  private static Run etcdctl(String url, TestPki pki, TestPki.Issued cert, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("etcdctl", "--endpoints", url, "--dial-timeout", "3s",
        "--command-timeout", "10s", "--cacert", pki.caFile().toString()));
    if (cert != null) {
      cmd.addAll(List.of("--cert", cert.certFile(), "--key", cert.keyFile()));
    }
    cmd.addAll(List.of(args));
    var r = dev.flotilla.kv.compat.ClientRun.run(cmd, Map.of("ETCDCTL_API", "3"), null, java.time.Duration.ofSeconds(60));
    if (r.killed()) {
      throw new AssertionError("etcdctl did not finish in 60 s");
    }
    return new Run(r.exitCode(), r.stdout(), r.stderr());
  }
}
