package dev.flotilla.bench;

import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Counters and latency histogram of one event loop during one run. Written only by that loop's
 * thread; read through {@link #copy()} submitted to the same loop.
 */
final class LoopStats {
    static final long MAX_LATENCY_MICROS = TimeUnit.MINUTES.toMicros(10);

    final Histogram latencyMicros = new Histogram(MAX_LATENCY_MICROS, 3);
    final long[] byStatus = new long[600];
    long responses;
    long connectErrors;
    long ioErrors;
    long timeouts;
    String firstError;

    void recordResponse(int status, long latencyNanos) {
        responses++;
        if (status >= 0 && status < byStatus.length) {
            byStatus[status]++;
        }
        long micros = Math.max(1, Math.min(MAX_LATENCY_MICROS, latencyNanos / 1_000));
        latencyMicros.recordValue(micros);
    }

    void recordConnectError(Throwable cause) {
        connectErrors++;
        noteError("connect", cause);
    }

    void recordIoError(Throwable cause) {
        ioErrors++;
        noteError("io", cause);
    }

    void recordTimeout(long timeoutNanos) {
        timeouts++;
        if (firstError == null) {
            firstError = "timeout: no response within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms";
        }
    }

    private void noteError(String kind, Throwable cause) {
        if (firstError == null) {
            String message = cause == null ? "connection closed with a request in flight"
                    : cause.getClass().getSimpleName() + ": " + cause.getMessage();
            firstError = kind + ": " + message;
        }
    }

    long ok() {
        long ok = 0;
        for (int s = 200; s < 300; s++) {
            ok += byStatus[s];
        }
        return ok;
    }

    long non2xx() {
        return responses - ok();
    }

    long errors() {
        return connectErrors + ioErrors + timeouts;
    }

    LoopStats copy() {
        LoopStats c = new LoopStats();
        c.add(this);
        return c;
    }

    void add(LoopStats other) {
        latencyMicros.add(other.latencyMicros);
        for (int s = 0; s < byStatus.length; s++) {
            byStatus[s] += other.byStatus[s];
        }
        responses += other.responses;
        connectErrors += other.connectErrors;
        ioErrors += other.ioErrors;
        timeouts += other.timeouts;
        if (firstError == null) {
            firstError = other.firstError;
        }
    }
}
