package dev.flotilla.kv.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The test certificates as openssl sees them: a chain that verifies against its own CA only. */
class TestPkiTest {
  @TempDir Path dir;

  @Test
  void issuedCertificatesVerifyAgainstTheirCaOnly() throws Exception {
    TestPki pki = TestPki.create(dir);
    TestPki.Issued server = pki.issue("server");
    TestPki.Issued stranger = pki.issueFromOtherCa("stranger");
    assertThat(openssl("verify", "-CAfile", pki.caFile().toString(), "-purpose", "sslserver", server.certFile()))
        .contains(": OK");
    assertThat(openssl("verify", "-CAfile", pki.caFile().toString(), "-purpose", "sslclient", server.certFile()))
        .contains(": OK");
    assertThat(openssl("verify", "-CAfile", pki.caFile().toString(), stranger.certFile())).doesNotContain(": OK");
    assertThat(openssl("x509", "-noout", "-ext", "subjectAltName", "-in", server.certFile()))
        .contains("IP Address:127.0.0.1", "IP Address:127.0.0.21", "DNS:localhost");
    assertThat(openssl("pkey", "-noout", "-text", "-in", server.keyFile())).contains("Private-Key");
  }

  private static String openssl(String... args) throws Exception {
    var cmd = new java.util.ArrayList<String>();
    cmd.add("openssl");
    cmd.addAll(java.util.List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor();
    return out;
  }
}
