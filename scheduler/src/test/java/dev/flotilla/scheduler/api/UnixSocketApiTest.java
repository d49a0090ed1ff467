package dev.flotilla.scheduler.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.memory.MemoryRegistry;
import io.netty.channel.epoll.Epoll;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Smoke test of the API on a Unix socket ({@code unix:///path}, fleetd's default kind of
 * listener), with curl as the client ({@code curl --unix-socket}), as an operator would.
 */
class UnixSocketApiTest {

  @TempDir
  Path dir;

  @Test
  void servesTheApiOnAUnixSocket() throws Exception {
    Assumptions.assumeTrue(Epoll.isAvailable(), "Netty native epoll is not available: " + Epoll.unavailabilityCause());
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/curl")), "curl is not installed (/usr/bin/curl)");
    MemoryRegistry registry = new MemoryRegistry(System::nanoTime);
    registry.publish(new MachineRecord("m1", "10.0.0.1", Map.of("region", "east"), Resources.NONE, "test"), 60);
    Path socket = dir.resolve("fleet.sock");
    Files.writeString(socket, "stale"); // left behind by a fleetd that died: replaced
    try (FleetApiServer server = FleetApiServer.start(List.of(URI.create("unix://" + socket)),
        new FleetApi(registry, registry, registry, registry))) {
      String body = curl(socket, "http://fleet/fleet/v1/machines");
      JsonNode page = new ObjectMapper().readTree(body);
      assertThat(page.at("/machines/0/id").asText()).isEqualTo("m1");
      assertThat(page.at("/machines/0/metadata/region").asText()).isEqualTo("east");
      assertThat(curl(socket, "http://fleet/fleet/v1/units")).isEqualTo("{}");
    }
    assertThat(socket).doesNotExist(); // removed on close
  }

  private static String curl(Path socket, String url) throws Exception {
    Process p = new ProcessBuilder("curl", "-sS", "--max-time", "10", "--fail", "--unix-socket", socket.toString(), url)
        .redirectErrorStream(true).start();
    try {
      assertThat(p.waitFor(20, TimeUnit.SECONDS)).as("curl finished").isTrue();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.exitValue()).as("curl exit status; output: " + out).isZero();
      return out;
    } finally {
      p.destroyForcibly();
    }
  }
}
