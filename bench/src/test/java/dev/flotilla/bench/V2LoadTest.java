package dev.flotilla.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class V2LoadTest {
    private FakeV2Server server;

    record Outcome(int exit, String out, String err) {
        JsonNode json() throws Exception {
            String line = out.lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow(
                    () -> new AssertionError("no JSON line in: " + out + err));
            return new ObjectMapper().readTree(line);
        }

        String human() {
            return out.lines().findFirst().orElse("");
        }
    }

    @BeforeEach
    void start() throws Exception {
        server = new FakeV2Server();
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private Outcome run(String... extra) {
        List<String> args = new ArrayList<>(List.of("--url", server.url(), "--duration", "400ms", "--warmup", "100ms",
                "--connections", "4", "--keys", "10", "--value-size", "16", "--label", "fake"));
        args.addAll(List.of(extra));
        return execute(args.toArray(String[]::new));
    }

    private static Outcome execute(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        // Overwriting allowed so that a test can override run()'s defaults: the last value wins.
        CommandLine cmd = new CommandLine(new V2Load()).setOverwrittenOptionsAllowed(true)
                .setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        int exit = cmd.execute(args);
        return new Outcome(exit, out.toString(), err.toString());
    }

    @Test
    void putSendsFormBodiesAndReportsACleanRun() throws Exception {
        Outcome o = run("--workload", "put");

        assertThat(o.exit()).as(o.err()).isZero();
        JsonNode j = o.json();
        assertThat(j.path("workload").asText()).isEqualTo("put");
        assertThat(j.path("system").asText()).isEqualTo("fake");
        assertThat(j.path("requests").asLong()).isPositive();
        assertThat(j.path("rps").asDouble()).isPositive();
        assertThat(j.path("non2xx").asLong()).isZero();
        assertThat(j.path("errors").path("total").asLong()).isZero();
        assertThat(j.path("statuses").path("201").asLong()).isEqualTo(j.path("requests").asLong());
        assertThat(j.path("latencyMs").path("p99").asDouble()).isGreaterThanOrEqualTo(j.path("latencyMs").path("p50").asDouble());
        assertThat(o.human()).contains("fake put:", "req/s", "no errors");
        assertThat(j.path("cpuCores").path("generator").asDouble()).isPositive();
        assertThat(j.path("cpuCores").path("server").asDouble()).isEqualTo(-1); // no --server-pid
        assertThat(server.received).allSatisfy(r -> {
            assertThat(r.method()).isEqualTo("PUT");
            assertThat(r.uri()).matches("/v2/keys/bench/k[0-9]");
            assertThat(r.contentType()).isEqualTo("application/x-www-form-urlencoded");
            assertThat(r.body()).isEqualTo("value=abcdefghijklmnop");
        });
    }

    @Test
    void getPrepopulatesEveryKeyFirst() throws Exception {
        Outcome o = run("--workload", "get");

        assertThat(o.exit()).as(o.err()).isZero();
        assertThat(o.err()).contains("prepopulated 10 keys");
        List<FakeV2Server.Received> puts = server.received.subList(0, 10);
        assertThat(puts).extracting(FakeV2Server.Received::uri).containsExactlyInAnyOrder(
                "/v2/keys/bench/k0", "/v2/keys/bench/k1", "/v2/keys/bench/k2", "/v2/keys/bench/k3", "/v2/keys/bench/k4",
                "/v2/keys/bench/k5", "/v2/keys/bench/k6", "/v2/keys/bench/k7", "/v2/keys/bench/k8", "/v2/keys/bench/k9");
        assertThat(server.count("PUT")).isEqualTo(10);
        assertThat(o.json().path("statuses").path("200").asLong()).isEqualTo(o.json().path("requests").asLong());
    }

    @Test
    void qgetAsksForQuorum() throws Exception {
        // the fake server runs in this JVM, so this process is the server whose CPU is reported
        Outcome o = run("--workload", "qget", "--server-pid", Long.toString(ProcessHandle.current().pid()));

        assertThat(o.json().path("cpuCores").path("server").asDouble()).isGreaterThanOrEqualTo(0);

        assertThat(o.exit()).as(o.err()).isZero();
        assertThat(server.received.stream().filter(r -> r.method().equals("GET")))
                .isNotEmpty()
                .allSatisfy(r -> assertThat(r.uri()).matches("/v2/keys/bench/k[0-9]\\?quorum=true"));
    }

    @Test
    void non2xxResponsesMakeTheRunNotClean() throws Exception {
        Outcome o = run("--workload", "get", "--no-prepopulate");

        assertThat(o.exit()).isEqualTo(V2Load.EXIT_NOT_CLEAN);
        JsonNode j = o.json();
        assertThat(j.path("non2xx").asLong()).isPositive().isEqualTo(j.path("requests").asLong());
        assertThat(j.path("statuses").path("404").asLong()).isEqualTo(j.path("requests").asLong());
        assertThat(o.human()).contains("NOT CLEAN", "404");
        assertThat(server.count("PUT")).isZero();
    }

    @Test
    void eachConnectionKeepsExactlyOneRequestInFlight() throws Exception {
        server.delayMs = 5;
        Outcome o = run("--workload", "get", "--no-prepopulate", "--connections", "8");

        assertThat(o.exit()).isEqualTo(V2Load.EXIT_NOT_CLEAN); // 404s, no keys
        assertThat(server.maxInFlightPerConnection.get()).isEqualTo(1);
        assertThat(server.connectionsAccepted.get()).isEqualTo(8);
        // 8 connections, >= 5 ms per round trip, 400 ms measured: at most ~640 responses
        assertThat(o.json().path("requests").asLong()).isBetween(1L, 700L);
        assertThat(o.json().path("latencyMs").path("p50").asDouble()).isGreaterThanOrEqualTo(5.0);
    }

    @Test
    void reconnectsWhenTheServerClosesEachConnection() throws Exception {
        server.closeEach = true;
        Outcome o = run("--workload", "put");

        assertThat(o.exit()).as(o.out() + o.err()).isZero();
        assertThat(o.json().path("requests").asLong()).isPositive();
        assertThat(server.connectionsAccepted.get()).isGreaterThan(4);
    }

    @Test
    void silentServerCountsTimeouts() throws Exception {
        server.silentEvery = 3;
        Outcome o = run("--workload", "put", "--timeout", "50ms", "--duration", "600ms");

        assertThat(o.exit()).isEqualTo(V2Load.EXIT_NOT_CLEAN);
        JsonNode j = o.json();
        assertThat(j.path("errors").path("timeout").asLong()).isPositive();
        assertThat(j.path("errors").path("total").asLong()).isEqualTo(j.path("errors").path("timeout").asLong());
        assertThat(j.path("firstError").asText()).contains("timeout");
        assertThat(o.human()).contains("NOT CLEAN");
    }

    @Test
    void refusedConnectionIsACannotRunError() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Outcome o = execute("--url", "http://127.0.0.1:" + port, "--duration", "200ms", "--warmup", "0s");

        assertThat(o.exit()).isEqualTo(V2Load.EXIT_CANNOT_RUN);
        assertThat(o.err()).contains("cannot connect to http://127.0.0.1:" + port);
        assertThat(o.out()).isEmpty();
    }

    @Test
    void rejectsBadArguments() {
        assertThat(execute("--url", "ftp://127.0.0.1:2379").exit()).isEqualTo(2);
        Outcome noCa = execute("--url", "https://127.0.0.1:2379", "--cacert", "/nonexistent/ca.pem");
        assertThat(noCa.exit()).isEqualTo(2);
        assertThat(noCa.err()).contains("--cacert /nonexistent/ca.pem: no such file");
        assertThat(execute("--workload", "delete").err()).contains("put, get or qget");
        assertThat(execute("--duration", "ten").err()).contains("not a duration");
        assertThat(execute("--connections", "0").err()).contains("--connections must be at least 1");
    }
}
