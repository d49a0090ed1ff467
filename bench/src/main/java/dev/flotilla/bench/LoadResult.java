package dev.flotilla.bench;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** The outcome of one measured run, as printed: one human line and one JSON line. */
record LoadResult(
        String tool,
        String system,
        String workload,
        String url,
        int connections,
        int threads,
        String transport,
        CpuUsage cpuCores,
        double durationSec,
        double warmupSec,
        int valueSize,
        int keys,
        long requests,
        double rps,
        Latency latencyMs,
        long non2xx,
        Map<String, Long> statuses,
        Errors errors,
        String firstError) {

    record Latency(double p50, double p90, double p99, double max, double mean) {
        static Latency of(Histogram micros) {
            return new Latency(ms(micros.getValueAtPercentile(50)), ms(micros.getValueAtPercentile(90)),
                    ms(micros.getValueAtPercentile(99)), ms(micros.getMaxValue()), ms(micros.getMean()));
        }

        private static double ms(double micros) {
            return Math.round(micros) / 1_000.0;
        }
    }

    record Errors(long total, long connect, long io, long timeout) {}

    static LoadResult of(V2Load.Settings s, String transport, CpuUsage cpu, LoopStats stats) {
        Map<String, Long> statuses = new LinkedHashMap<>();
        for (int code = 0; code < stats.byStatus.length; code++) {
            if (stats.byStatus[code] > 0) {
                statuses.put(Integer.toString(code), stats.byStatus[code]);
            }
        }
        double seconds = s.duration().toNanos() / 1e9;
        double rps = Math.round(stats.responses / seconds * 10) / 10.0;
        return new LoadResult("v2load", s.system(), s.workload().label(), s.url(), s.connections(), s.threads(),
                transport, cpu, seconds, s.warmup().toNanos() / 1e9, s.valueSize(), s.keys(), stats.responses, rps,
                Latency.of(stats.latencyMicros), stats.non2xx(), statuses,
                new Errors(stats.errors(), stats.connectErrors, stats.ioErrors, stats.timeouts), stats.firstError);
    }

    private String cpuText() {
        StringBuilder sb = new StringBuilder();
        if (cpuCores.server() >= 0) {
            sb.append(String.format(Locale.ROOT, "server %.2f ", cpuCores.server()));
        }
        sb.append(String.format(Locale.ROOT, "generator %.2f", cpuCores.generator()));
        if (cpuCores.other() >= 0) {
            sb.append(String.format(Locale.ROOT, " other %.2f", cpuCores.other()));
        }
        return sb.toString();
    }

    boolean clean() {
        return non2xx == 0 && errors.total == 0 && requests > 0;
    }

    String humanLine() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT,
                "%s %s: %.1f req/s (%d responses in %.1fs, %d connections), latency p50 %.3fms p90 %.3fms"
                        + " p99 %.3fms max %.3fms, cpu cores: %s",
                system, workload, rps, requests, durationSec, connections,
                latencyMs.p50, latencyMs.p90, latencyMs.p99, latencyMs.max, cpuText()));
        if (clean()) {
            sb.append(", no errors");
        } else {
            sb.append(String.format(Locale.ROOT, " -- NOT CLEAN: %d non-2xx %s, %d errors (connect %d, io %d,"
                            + " timeout %d)%s",
                    non2xx, statuses, errors.total, errors.connect, errors.io, errors.timeout,
                    firstError == null ? "" : ", first: " + firstError));
            if (requests == 0) {
                sb.append(", no responses at all");
            }
        }
        return sb.toString();
    }
}
