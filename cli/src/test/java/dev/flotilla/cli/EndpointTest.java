package dev.flotilla.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flotilla.cli.client.Endpoint;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class EndpointTest {

  @Test
  void readsFleetctlsEndpoints() {
    Endpoint unix = Endpoint.parse(Endpoint.DEFAULT);
    assertThat(unix.isUnix()).isTrue();
    assertThat(unix.socket()).isEqualTo(Path.of("/var/run/fleet.sock"));
    assertThat(unix.hostHeader()).isEqualTo("domain-sock");
    Endpoint http = Endpoint.parse("http://10.0.0.1:49153");
    assertThat(http.isUnix()).isFalse();
    assertThat(http.host()).isEqualTo("10.0.0.1");
    assertThat(http.port()).isEqualTo(49153);
    assertThat(Endpoint.parse("http://fleet").port()).isEqualTo(80);
    assertThat(Endpoint.parse("file:///run/fleet.sock").socket()).isEqualTo(Path.of("/run/fleet.sock"));
  }

  @Test
  void refusesWhatItCannotUseAndSaysWhatToWrite() {
    assertThatThrownBy(() -> Endpoint.parse("unix://var/run/fleet.sock")).hasMessageContaining("three slashes");
    assertThatThrownBy(() -> Endpoint.parse("unix://")).hasMessageContaining("no socket path");
    assertThatThrownBy(() -> Endpoint.parse("127.0.0.1:4002")).hasMessageContaining("http://127.0.0.1:4002");
    assertThat(Endpoint.parse("https://fleet").port()).isEqualTo(443);
    assertThat(Endpoint.parse("https://fleet:8443").https()).isTrue();
    assertThat(Endpoint.parse("https://fleet:443").hostHeader()).isEqualTo("fleet");
    assertThatThrownBy(() -> Endpoint.parse("http://fleet:80/fleet/v1")).hasMessageContaining("has a path");
    assertThatThrownBy(() -> Endpoint.parse("ftp://x")).hasMessageContaining("unsupported scheme 'ftp'");
  }
}
