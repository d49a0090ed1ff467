package dev.flotilla.bench.fleet;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flotilla.kv.client.JetcdStoreClient;
import dev.flotilla.kv.client.KeyRange;
import dev.flotilla.kv.client.KeyValue;
import dev.flotilla.kv.client.StoreClient;
import dev.flotilla.kv.client.StoreException;
import dev.flotilla.kv.client.WatchEvent;
import dev.flotilla.kv.client.WatchHandle;
import dev.flotilla.kv.client.WatchListener;
import dev.flotilla.kv.embed.EmbeddedKv;
import dev.flotilla.kv.embed.KvConfig;
import dev.flotilla.scheduler.engine.Engine;
import dev.flotilla.scheduler.engine.EngineRegistry;
import dev.flotilla.scheduler.engine.EngineRunner;
import dev.flotilla.scheduler.engine.StoreEngineLease;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.UnitRecord;
import dev.flotilla.scheduler.registry.store.RegistryKeys;
import dev.flotilla.scheduler.registry.store.StoreRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The fleet engine at scale: a real store (a kvd member embedded in this JVM, or a kvd/etcd at
 * {@code --endpoints}), {@code --machines} simulated machines (presence records under leases kept
 * alive, with metadata and capacity), {@code --units} units submitted and started through the
 * registry by {@code --submitters} threads, and one real engine ({@link EngineRunner} with a
 * {@link StoreEngineLease}, writes fenced on its epoch) placing them. Measures the time from the
 * first submit, and from the last, until every unit is scheduled (seen through a watch of the
 * schedule); the store requests the engine made per placement; and the engine thread's CPU per
 * 1,000 registry events. Then, with {@code --kill N}, withdraws N machines and measures until
 * their units are placed again. Finally checks {@link ScaleInvariants} on what the store holds.
 */
@Command(name = "run-scale.sh", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Places many units over many simulated machines with one real fleet engine and a real store.")
public final class FleetScale implements Callable<Integer> {

    @Option(names = "--machines", defaultValue = "1000", description = "Simulated machines (default: ${DEFAULT-VALUE}).")
    int machines;

    @Option(names = "--units", defaultValue = "100000", description = "Units submitted and started (default: ${DEFAULT-VALUE}).")
    int units;

    @Option(names = "--submitters", defaultValue = "16",
            description = "Threads submitting units, one create txn each (default: ${DEFAULT-VALUE}).")
    int submitters;

    @Option(names = "--submit-batch", defaultValue = "1",
            description = "Units per submit request: 1 is one create txn per unit (as fleetctl submits); more uses the"
                    + " registry's createAll, up to 128 units a txn (default: ${DEFAULT-VALUE}).")
    int submitBatch;

    @Option(names = "--kill", defaultValue = "0",
            description = "Machines withdrawn once everything is placed; their units must move (default: ${DEFAULT-VALUE}).")
    int kill;

    @Option(names = "--seed", defaultValue = "1", description = "Workload seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--endpoints", split = ",",
            description = "A kvd or etcd to use (http://host:port,...) instead of a member embedded in this JVM.")
    List<URI> endpoints = List.of();

    @Option(names = "--timeout", defaultValue = "600", description = "Seconds to wait for each phase (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    @Option(names = "--json", description = "Also write the result as one JSON object to this file.")
    Path json;

    @Option(names = "--warmup-units", defaultValue = "0",
            description = "First a whole run of this many units on its own fresh store and engine in this JVM, its result"
                    + " discarded: the measured run then finds the code compiled, as in a fleetd that has been up a while"
                    + " (default: ${DEFAULT-VALUE}, a cold JVM).")
    int warmupUnits;

    /** Whether a warm-up run has been done in this JVM. */
    private boolean warmed;

    /** What one run measured. */
    public record Result(int machines, int units, String store, int submitters, int submitBatch,
            double submitSeconds, double placedAfterFirstSubmitSeconds, double placedAfterLastSubmitSeconds,
            long engineRequests, long engineTxns, long engineReadTxns, long engineRanges, long engineTxnOps,
            long engineFailedTxns, double engineStoreWaitSeconds,
            double engineRequestsPerPlacement, double engineTxnOpsPerPlacement,
            long submitRequests, long events, long rounds, long fullPasses, long assignments, long unassignments,
            long failedWrites, double engineCpuSeconds, double engineCpuMillisPer1000Events,
            double processCpuSeconds, int killed, double replacedSeconds, List<String> violations) {}

    private static final String PREFIX = RegistryKeys.DEFAULT_PREFIX;
    private static final String ENGINE_ID = "bench-engine";

    public static void main(String[] args) {
        // warnings only from the libraries (as V2Load): the store's and Netty's start-up chatter
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "dev/flotilla/bench/logback-v2load.xml");
        }
        System.exit(new CommandLine(new FleetScale()).execute(args));
    }

    /** A run of this size; fields as the options. */
    static FleetScale of(int machines, int units, int kill) {
        FleetScale s = new FleetScale();
        s.machines = machines;
        s.units = units;
        s.submitters = 16;
        s.submitBatch = 1;
        s.kill = kill;
        s.seed = 1;
        s.timeoutSeconds = 600;
        return s;
    }

    @Override
    public Integer call() throws Exception {
        if (warmupUnits > 0) {
            if (!endpoints.isEmpty()) {
                throw new CommandLine.ParameterException(new CommandLine(this),
                        "--warmup-units needs the in-process store (a store given by --endpoints is not emptied)");
            }
            int measured = units;
            int killed = kill;
            units = warmupUnits;
            kill = 0;
            long t0 = System.nanoTime();
            Result w = run();
            log("warm-up: %,d units placed %.2f s after the first submit (whole warm-up %.1f s, discarded; invariants %s)",
                    w.units(), w.placedAfterFirstSubmitSeconds(), (System.nanoTime() - t0) / 1e9,
                    w.violations().isEmpty() ? "hold" : w.violations());
            units = measured;
            kill = killed;
            warmed = true;
        }
        Result r = run();
        System.out.println(report(r));
        String line = new ObjectMapper().writeValueAsString(r);
        System.out.println(line);
        if (json != null) {
            Files.writeString(json, line + "\n");
        }
        return r.violations().isEmpty() ? 0 : 1;
    }

    static String report(Result r) {
        return String.format("""
                fleet engine at scale: %,d units over %,d machines, store: %s, %d submitters, %d units per submit
                  submitting took                  %.2f s
                  all placed after first submit    %.2f s
                  all placed after last submit     %.2f s
                  engine store requests            %,d (%,d txns of which %,d read-only, %,d ranges; %,d ops in txns; %d txns failed)
                  engine waiting for the store     %.2f s
                  per placement                    %.3f requests, %.2f txn ops
                  engine: events %,d, rounds %,d, full passes %d, assignments %,d, unassignments %,d, failed writes %d
                  engine thread CPU                %.2f s = %.2f ms per 1,000 events
                  process CPU (store, submitters, engine, all)  %.1f s
                  killed %d machines: their units placed again after %.2f s
                  invariants: %s""",
                r.units(), r.machines(), r.store(), r.submitters(), r.submitBatch(), r.submitSeconds(),
                r.placedAfterFirstSubmitSeconds(), r.placedAfterLastSubmitSeconds(), r.engineRequests(), r.engineTxns(),
                r.engineReadTxns(), r.engineRanges(), r.engineTxnOps(), r.engineFailedTxns(), r.engineStoreWaitSeconds(), r.engineRequestsPerPlacement(),
                r.engineTxnOpsPerPlacement(), r.events(), r.rounds(), r.fullPasses(), r.assignments(),
                r.unassignments(), r.failedWrites(), r.engineCpuSeconds(), r.engineCpuMillisPer1000Events(),
                r.processCpuSeconds(), r.killed(), r.replacedSeconds(),
                r.violations().isEmpty() ? "all hold" : String.join("\n    ", r.violations()));
    }

    /** Runs the whole scenario and tears everything down, also on failure. */
    public Result run() throws Exception {
        List<AutoCloseable> open = new ArrayList<>();
        Path dir = null;
        try {
            StoreClient base;
            EmbeddedKv kv = null;
            if (endpoints.isEmpty()) {
                dir = Files.createTempDirectory("flotilla-fleet-scale-");
                URI peer = URI.create("http://127.0.0.1:" + freePort());
                kv = EmbeddedKv.start(KvConfig.builder(dir.resolve("store")).name("scale")
                        .listenClientUrl("http://127.0.0.1:0").listenPeerUrls(List.of(peer))
                        .initialAdvertisePeerUrls(List.of(peer)).initialCluster("scale=" + peer).build());
                open.add(kv);
                kv.ready().get(60, TimeUnit.SECONDS);
                base = kv.storeClient();
            } else {
                base = JetcdStoreClient.connect(endpoints, Duration.ofSeconds(30));
                open.add(base);
            }
            return run(kv, base, open);
        } finally {
            for (int i = open.size() - 1; i >= 0; i--) {
                try {
                    open.get(i).close();
                } catch (Exception e) {
                    System.err.println("closing " + open.get(i) + ": " + e);
                }
            }
            if (dir != null) {
                deleteTree(dir);
            }
        }
    }

    private Result run(EmbeddedKv kv, StoreClient base, List<AutoCloseable> open) throws Exception {
        // each party its own client (in process: its own watch delivery), counted separately
        CountingStoreClient agentsClient = new CountingStoreClient(kv == null ? base : open(kv, open));
        CountingStoreClient submitClient = new CountingStoreClient(kv == null ? base : open(kv, open));
        CountingStoreClient engineClient = new CountingStoreClient(kv == null ? base : open(kv, open));
        StoreClient observerClient = kv == null ? base : open(kv, open);
        RegistryKeys keys = new RegistryKeys(PREFIX);
        if (!base.get(keys.all()).kvs().isEmpty()) {
            throw new IllegalStateException("the store already holds keys under " + PREFIX
                    + ": run against an empty kvd (a fresh --data-dir)");
        }

        // the machines: presences under leases, kept alive by the "agents" registry
        List<MachineRecord> machineRecords = FleetWorkload.machines(machines);
        StoreRegistry agents = new StoreRegistry(agentsClient, PREFIX);
        open.add(agents);
        publishAll(agents, machineRecords);
        List<UnitRecord> workload = FleetWorkload.units(units, machines, seed);
        log("%,d machines present; %,d units to submit", machines, workload.size());

        // who is scheduled where, as the store says (an observer's watch, not the engine's)
        ScheduleObserver observer = new ScheduleObserver(keys);
        long from = observerClient.get(keys.all()).revision() + 1;
        WatchHandle watch = observerClient.watch(keys.assignments(), from, observer);
        open.add(watch::close);

        // the engine, as fleetd runs it
        StoreRegistry engineRegistry = new StoreRegistry(engineClient, PREFIX);
        StoreEngineLease lease = new StoreEngineLease(engineClient, PREFIX + "engine/leader", 10);
        Engine engine = new Engine(ENGINE_ID,
                new EngineRegistry(engineRegistry, engineRegistry, engineRegistry, engineRegistry::watch,
                        lease.fence(engineRegistry)),
                lease, Engine.Config.defaults());
        EngineRunner runner = new EngineRunner(engine, System::nanoTime, TimeUnit.MILLISECONDS.toNanos(100)).start();
        AutoCloseable closeRunner = runner::close;
        open.add(closeRunner);
        waitFor(() -> base.get(KeyRange.key(StoreClient.bytes(PREFIX + "engine/leader"))).first().isPresent(),
                "the engine to take its lease");
        long engineThread = threadId("engine-" + ENGINE_ID);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long cpu0 = threads.getThreadCpuTime(engineThread);
        long processCpu0 = processCpuNanos();
        CountingStoreClient.Counts engine0 = engineClient.counts();
        CountingStoreClient.Counts submit0 = submitClient.counts();

        // submit and start every unit
        StoreRegistry submitRegistry = new StoreRegistry(submitClient, PREFIX);
        observer.expect(workload.size());
        long t0 = System.nanoTime();
        submitAll(submitRegistry, workload);
        long tSubmitted = System.nanoTime();
        log("submitted in %.2f s; %,d scheduled so far", (tSubmitted - t0) / 1e9, observer.scheduled());
        waitFor(() -> observer.scheduled() >= workload.size(), "every unit to be scheduled");
        long tPlaced = observer.reachedNanos();
        log("all %,d scheduled %.2f s after the first submit", workload.size(), (tPlaced - t0) / 1e9);
        CountingStoreClient.Counts placedCounts = engineClient.counts().minus(engine0);
        waitForQuiet(engineClient);
        CountingStoreClient.Counts engineCounts = engineClient.counts().minus(engine0);
        long cpu1 = threads.getThreadCpuTime(engineThread);

        // machines die: their units must move, and nothing else
        double replacedSeconds = 0;
        List<MachineRecord> present = new ArrayList<>(machineRecords);
        if (kill > 0) {
            List<MachineRecord> victims = new ArrayList<>();
            for (MachineRecord m : machineRecords) {
                if (victims.size() < kill && !m.metadata().containsKey("gpu")) {
                    victims.add(m);
                }
            }
            Set<String> dead = new HashSet<>();
            victims.forEach(m -> dead.add(m.id()));
            long tKill = System.nanoTime();
            for (MachineRecord m : victims) {
                agents.withdraw(m.id());
            }
            present.removeAll(victims);
            waitFor(() -> observer.scheduled() >= workload.size() && observer.noneOn(dead),
                    "the units of the withdrawn machines to be placed again");
            replacedSeconds = (observer.lastChangeNanos() - tKill) / 1e9;
            log("%d machines withdrawn: their units placed again after %.2f s", kill, replacedSeconds);
            waitForQuiet(engineClient);
        }
        long processCpu1 = processCpuNanos();

        // the schedule as the observer's watch of the store has it (one range of 100,000 entries is
        // over jetcd's default 4 MiB message limit when the store is a kvd process)
        Map<String, String> schedule = observer.snapshot();
        List<MachineRecord> live = agents.machines();
        List<String> violations = new ArrayList<>();
        if (live.size() != present.size()) {
            violations.add(live.size() + " machines present, expected " + present.size());
        }
        violations.addAll(ScaleInvariants.violations(workload, live, schedule, 20));
        runner.close(); // joins the engine's thread: its stats are safe to read after this
        open.remove(closeRunner);
        Engine.Stats s = engine.stats();
        long placements = Math.max(1, s.assignments());
        double engineCpuSeconds = (cpu1 - cpu0) / 1e9;
        return new Result(machines, workload.size(), (kv == null ? "kvd at " + endpoints : "kvd member in process")
                        + (warmed ? String.format(", JVM warmed by a run of %,d units", warmupUnits) : ", cold JVM"),
                submitters, submitBatch, (tSubmitted - t0) / 1e9, (tPlaced - t0) / 1e9, (tPlaced - tSubmitted) / 1e9,
                placedCounts.requests(), placedCounts.txns(), placedCounts.readTxns(), placedCounts.ranges(),
                placedCounts.txnOps(), placedCounts.failedTxns(), round3(placedCounts.waitNanos() / 1e9), round3(engineCounts.requests() / (double) placements),
                round3(engineCounts.txnOps() / (double) placements), submitClient.counts().minus(submit0).requests(),
                s.events(), s.rounds(), s.fullPasses(), s.assignments(), s.unassignments(), s.failedWrites(),
                round3(engineCpuSeconds), round3(engineCpuSeconds * 1e3 / Math.max(1, s.events() / 1000.0)),
                round3((processCpu1 - processCpu0) / 1e9), kill, round3(replacedSeconds), violations);
    }

    private static StoreClient open(EmbeddedKv kv, List<AutoCloseable> open) {
        StoreClient c = kv.storeClient();
        open.add(c);
        return c;
    }

    private void publishAll(StoreRegistry agents, List<MachineRecord> records) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (MachineRecord m : records) {
                done.add(pool.submit(() -> agents.publish(m, 30)));
            }
            for (Future<?> f : done) {
                f.get(timeoutSeconds, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private void submitAll(StoreRegistry registry, List<UnitRecord> workload) throws Exception {
        AtomicInteger next = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(submitters);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < submitters; t++) {
                done.add(pool.submit(() -> {
                    for (int i = next.getAndAdd(submitBatch); i < workload.size(); i = next.getAndAdd(submitBatch)) {
                        List<UnitRecord> batch = workload.subList(i, Math.min(workload.size(), i + submitBatch));
                        List<Boolean> created = submitBatch == 1 ? List.of(registry.create(batch.get(0)))
                                : registry.createAll(batch);
                        if (created.contains(false)) {
                            throw new IllegalStateException("a unit of " + batch.get(0).name() + "... was already submitted");
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(timeoutSeconds, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Waits until the engine has made no store request for a second (it is done). */
    private void waitForQuiet(CountingStoreClient engineClient) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        long last = -1;
        long since = System.nanoTime();
        while (System.nanoTime() - deadline < 0) {
            long now = engineClient.counts().requests();
            if (now != last) {
                last = now;
                since = System.nanoTime();
            } else if (System.nanoTime() - since > TimeUnit.SECONDS.toNanos(1)) {
                return;
            }
            sleepMillis(50);
        }
        throw new IllegalStateException("the engine was still writing after " + timeoutSeconds + " s");
    }

    private void waitFor(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("gave up after " + timeoutSeconds + " s waiting for " + what);
            }
            sleepMillis(10);
        }
    }

    /** The unit → machine index as a watch of {@code assignment/} shows it. */
    private static final class ScheduleObserver implements WatchListener {
        private final RegistryKeys keys;
        private final Map<String, String> schedule = new HashMap<>();
        private long lastChange = System.nanoTime();
        private int expected = Integer.MAX_VALUE;
        private long reached;
        private StoreException error;

        ScheduleObserver(RegistryKeys keys) {
            this.keys = keys;
        }

        @Override
        public synchronized void onEvents(List<WatchEvent> batch) {
            for (WatchEvent e : batch) {
                KeyValue kv = e.kv();
                keys.parse(kv.key()).ifPresent(p -> {
                    if (e.type() == WatchEvent.Type.PUT) {
                        schedule.put(p.unit(), kv.valueUtf8());
                    } else {
                        schedule.remove(p.unit());
                    }
                });
            }
            lastChange = System.nanoTime();
            if (reached == 0 && schedule.size() >= expected) {
                reached = lastChange;
            }
        }

        /** From now on, notes when {@code count} units are first scheduled. */
        synchronized void expect(int count) {
            expected = count;
            if (schedule.size() >= expected) {
                reached = System.nanoTime();
            }
        }

        synchronized long reachedNanos() {
            return reached;
        }

        @Override
        public synchronized void onCompacted(long compactRevision) {
            error = new StoreException(StoreException.Code.COMPACTED, "the observer's watch was compacted");
        }

        @Override
        public synchronized void onError(StoreException e) {
            error = e;
        }

        synchronized int scheduled() {
            if (error != null) {
                throw error;
            }
            return schedule.size();
        }

        synchronized Map<String, String> snapshot() {
            if (error != null) {
                throw error;
            }
            return new HashMap<>(schedule);
        }

        synchronized boolean noneOn(Set<String> machines) {
            return schedule.values().stream().noneMatch(machines::contains);
        }

        synchronized long lastChangeNanos() {
            return lastChange;
        }
    }

    private static long threadId(String name) {
        for (ThreadInfo t : ManagementFactory.getThreadMXBean().dumpAllThreads(false, false)) {
            if (t.getThreadName().equals(name)) {
                return t.getThreadId();
            }
        }
        throw new IllegalStateException("no thread named " + name);
    }

    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return 0;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static double round3(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    private static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }

    private static void log(String format, Object... args) {
        System.err.printf("fleet-scale: " + format + "%n", args);
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
