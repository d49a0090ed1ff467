package dev.flotilla.bench;

import io.netty.handler.codec.http.FullHttpRequest;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/** Hands the next request to a connection; called on event-loop threads. */
@FunctionalInterface
interface RequestSource {
    /** The next request, or {@code null} when this source has no more. */
    FullHttpRequest next();

    /** Uniformly random keys, without end: the measured workloads. */
    static RequestSource randomKeys(V2Requests requests) {
        int keys = requests.keys();
        return () -> requests.forKey(ThreadLocalRandom.current().nextInt(keys));
    }

    /** Every key exactly once across all connections: prepopulation. */
    static RequestSource eachKeyOnce(V2Requests requests) {
        AtomicInteger next = new AtomicInteger();
        int keys = requests.keys();
        return () -> {
            int k = next.getAndIncrement();
            return k < keys ? requests.forKey(k) : null;
        };
    }
}
