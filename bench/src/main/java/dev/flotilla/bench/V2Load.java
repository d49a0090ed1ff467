package dev.flotilla.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Closed-loop load generator for the etcd v2 keys API, in the manner of wrk: each connection keeps
 * exactly one request in flight. Prints one human line and one JSON line on stdout; progress goes
 * to stderr.
 *
 * <p>Exit status: 0 clean run; 3 the run finished but had non-2xx responses or errors; 1 it could
 * not run (no connection, prepopulation failed); 2 bad arguments.
 */
@Command(name = "v2load", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Closed-loop HTTP/1.1 load against the etcd v2 keys API (/v2/keys/bench/k<n>).")
public final class V2Load implements Callable<Integer> {
    static final int EXIT_NOT_CLEAN = 3;
    static final int EXIT_CANNOT_RUN = 1;

    @Spec
    private CommandSpec spec;

    @Option(names = "--url", defaultValue = "http://127.0.0.1:2379", description = "Client URL (default: ${DEFAULT-VALUE}).")
    private String url;

    @Option(names = "--cacert", description = "With an https --url: CA certificate (PEM) of the server.")
    private java.nio.file.Path cacert;

    @Option(names = "--cert", description = "With an https --url: client certificate (PEM) to present.")
    private java.nio.file.Path cert;

    @Option(names = "--key", description = "With an https --url: key (PEM, PKCS#8) of --cert.")
    private java.nio.file.Path key;

    @Option(names = "--connections", defaultValue = "64", description = "Connections, one request in flight each (default: ${DEFAULT-VALUE}).")
    private int connections;

    @Option(names = "--duration", defaultValue = "10s", converter = DurationConverter.class, description = "Measured time (default: ${DEFAULT-VALUE}).")
    private Duration duration;

    @Option(names = "--warmup", defaultValue = "2s", converter = DurationConverter.class, description = "Load before measuring, not recorded (default: ${DEFAULT-VALUE}).")
    private Duration warmup;

    @Option(names = "--workload", defaultValue = "get", converter = WorkloadConverter.class, description = "put, get or qget (default: ${DEFAULT-VALUE}).")
    private Workload workload;

    @Option(names = "--value-size", defaultValue = "256", description = "Bytes per value (default: ${DEFAULT-VALUE}).")
    private int valueSize;

    @Option(names = "--keys", defaultValue = "1000", description = "Key space k0..k<keys-1>, picked uniformly (default: ${DEFAULT-VALUE}).")
    private int keys;

    @Option(names = "--threads", defaultValue = "1", description = "Event-loop threads (default: ${DEFAULT-VALUE}).")
    private int threads;

    @Option(names = "--transport", defaultValue = "AUTO", description = "auto, epoll or nio (default: auto = epoll when available).",
            converter = TransportConverter.class)
    private LoadDriver.Transport transport;

    @Option(names = "--timeout", defaultValue = "5s", converter = DurationConverter.class, description = "A request without response after this counts as a timeout error (default: ${DEFAULT-VALUE}).")
    private Duration timeout;

    @Option(names = "--prepopulate", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Before get/qget, PUT every key once; --no-prepopulate skips it (default: on).")
    private boolean prepopulate;

    @Option(names = "--label", defaultValue = "server", description = "System name written in the output, e.g. etcd or kvd (default: ${DEFAULT-VALUE}).")
    private String label;

    @Option(names = "--server-pid", split = ",", description = "Pid(s) of the server on this machine (every member of a local cluster), to report its CPU use (Linux).")
    private java.util.List<Long> serverPid = java.util.List.of();

    /** The validated settings of one invocation. */
    record Settings(String system, Workload workload, String url, InetSocketAddress server, String hostHeader,
                    int connections, int threads, Duration duration, Duration warmup, Duration timeout,
                    int valueSize, int keys, boolean prepopulate, io.netty.handler.ssl.SslContext tls) {}

    public static void main(String[] args) {
        // kv-core on the classpath brings a logback.xml too; naming ours keeps logback from
        // choosing between them and from printing its status report on stdout.
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "dev/flotilla/bench/logback-v2load.xml");
        }
        System.exit(new CommandLine(new V2Load()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Settings s = settings();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (LoadDriver driver = new LoadDriver(s.server(), s.connections(), s.threads(), transport,
                s.timeout().toNanos(), s.tls())) {
            try {
                driver.connectAll();
            } catch (IOException e) {
                err.println("v2load: cannot connect to " + s.url() + ": " + e.getMessage()
                        + "; is the server running and listening there?");
                return EXIT_CANNOT_RUN;
            }
            if (s.workload().needsKeys() && s.prepopulate()) {
                String failure = prepopulate(driver, s);
                if (failure != null) {
                    err.println("v2load: " + failure);
                    return EXIT_CANNOT_RUN;
                }
            }
            long start = System.nanoTime();
            long windowStart = start + s.warmup().toNanos();
            long windowEnd = windowStart + s.duration().toNanos();
            V2Requests requests = V2Requests.of(s.workload(), s.hostHeader(), s.keys(), s.valueSize());
            Run run = new Run(RequestSource.randomKeys(requests), windowStart, windowEnd, driver.connections());
            driver.start(run);
            sleepUntil(windowStart);
            CpuUsage.Sample cpuAtStart = CpuUsage.Sample.take(serverPid);
            sleepUntil(windowEnd);
            CpuUsage cpu = CpuUsage.between(cpuAtStart, CpuUsage.Sample.take(serverPid));
            LoadResult result = LoadResult.of(s, driver.transportName(), cpu, run.snapshot());
            out.println(result.humanLine());
            out.println(json(result));
            out.flush();
            return result.clean() ? 0 : EXIT_NOT_CLEAN;
        }
    }

    /** PUTs every key once; returns why it failed, or null. */
    private String prepopulate(LoadDriver driver, Settings s) throws InterruptedException {
        long limit = TimeUnit.SECONDS.toNanos(120);
        long start = System.nanoTime();
        V2Requests puts = V2Requests.of(Workload.PUT, s.hostHeader(), s.keys(), s.valueSize());
        Run fill = new Run(RequestSource.eachKeyOnce(puts), start, start + limit, driver.connections());
        driver.start(fill);
        boolean finished = fill.awaitSlots(limit + TimeUnit.SECONDS.toNanos(1), TimeUnit.NANOSECONDS);
        LoopStats stats = fill.snapshot();
        if (!finished || stats.ok() != s.keys()) {
            return String.format("prepopulating %d keys under %s failed: %d answered 2xx, %d non-2xx, %d errors%s%s;"
                            + " the server must serve the v2 keys API (etcd needs --enable-v2=true)",
                    s.keys(), V2Requests.KEY_PREFIX + "<n>", stats.ok(), stats.non2xx(), stats.errors(),
                    finished ? "" : ", not finished in 120s",
                    stats.firstError == null ? "" : ", first error: " + stats.firstError);
        }
        spec.commandLine().getErr().println(String.format("v2load: prepopulated %d keys in %.2fs", s.keys(),
                (System.nanoTime() - start) / 1e9));
        return null;
    }

    private Settings settings() {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw bad("--url '" + url + "' is not a URL: " + e.getMessage());
        }
        boolean https = "https".equals(uri.getScheme());
        if (!("http".equals(uri.getScheme()) || https) || uri.getHost() == null) {
            throw bad("--url '" + url + "' must be http://HOST[:PORT] or https://HOST[:PORT]");
        }
        io.netty.handler.ssl.SslContext tls = null;
        if (https) {
            // the same TLS client kvd's own tools use: TLS 1.2/1.3, the server's name checked
            try (var creds = dev.flotilla.kv.tls.TlsCredentials.load(
                    new dev.flotilla.kv.tls.TlsSettings(cert, key, cacert, false, "--", "--cacert"))) {
                tls = creds.nettyClient();
            } catch (IOException | IllegalArgumentException e) {
                throw bad(e.getMessage());
            }
        }
        if (uri.getPath() != null && !uri.getPath().isEmpty() && !uri.getPath().equals("/")) {
            throw bad("--url '" + url + "' must have no path; requests go to /v2/keys/bench/k<n>");
        }
        int port = uri.getPort() == -1 ? (https ? 443 : 80) : uri.getPort();
        require(connections >= 1, "--connections must be at least 1, got " + connections);
        require(threads >= 1, "--threads must be at least 1, got " + threads);
        require(keys >= 1, "--keys must be at least 1, got " + keys);
        require(valueSize >= 0, "--value-size must not be negative, got " + valueSize);
        require(!duration.isZero() && !duration.isNegative(), "--duration must be positive, got " + duration);
        require(!warmup.isNegative(), "--warmup must not be negative, got " + warmup);
        require(!timeout.isZero() && !timeout.isNegative(), "--timeout must be positive, got " + timeout);
        String hostHeader = uri.getHost() + (uri.getPort() == -1 ? "" : ":" + port);
        return new Settings(label, workload, url, new InetSocketAddress(uri.getHost(), port), hostHeader,
                connections, Math.min(threads, connections), duration, warmup, timeout, valueSize, keys,
                prepopulate, tls);
    }

    private void require(boolean ok, String message) {
        if (!ok) {
            throw bad(message);
        }
    }

    private CommandLine.ParameterException bad(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    private static String json(LoadResult result) throws JsonProcessingException {
        return new ObjectMapper().writeValueAsString(result);
    }

    private static void sleepUntil(long deadlineNanos) throws InterruptedException {
        long left;
        while ((left = deadlineNanos - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
    }

    static final class WorkloadConverter implements CommandLine.ITypeConverter<Workload> {
        @Override
        public Workload convert(String value) {
            try {
                return Workload.valueOf(value.trim().toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a workload; use put, get or qget");
            }
        }
    }

    static final class TransportConverter implements CommandLine.ITypeConverter<LoadDriver.Transport> {
        @Override
        public LoadDriver.Transport convert(String value) {
            try {
                return LoadDriver.Transport.valueOf(value.trim().toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a transport; use auto, epoll or nio");
            }
        }
    }
}
