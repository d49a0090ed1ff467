package dev.flotilla.bench;

import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * One pass of all connections over a {@link RequestSource}. Responses that complete inside
 * [windowStart, windowEnd) are recorded; no request is sent at or after windowEnd. Times are
 * {@link System#nanoTime()} values and are compared by difference, as that clock requires.
 */
final class Run {
    private final RequestSource source;
    private final long windowStartNanos;
    private final long windowEndNanos;
    private final CountDownLatch slotsDone;
    private final Map<EventLoop, LoopStats> stats = new ConcurrentHashMap<>();

    Run(RequestSource source, long windowStartNanos, long windowEndNanos, int slots) {
        this.source = source;
        this.windowStartNanos = windowStartNanos;
        this.windowEndNanos = windowEndNanos;
        this.slotsDone = new CountDownLatch(slots);
    }

    RequestSource source() {
        return source;
    }

    long windowEndNanos() {
        return windowEndNanos;
    }

    boolean inWindow(long now) {
        return now - windowStartNanos >= 0 && now - windowEndNanos < 0;
    }

    boolean over(long now) {
        return now - windowEndNanos >= 0;
    }

    LoopStats statsFor(EventLoop loop) {
        return stats.computeIfAbsent(loop, l -> new LoopStats());
    }

    /** Each slot calls this once, when it will send nothing more for this run. */
    void slotDone() {
        slotsDone.countDown();
    }

    boolean awaitSlots(long timeout, TimeUnit unit) throws InterruptedException {
        return slotsDone.await(timeout, unit);
    }

    /** Merged copy of every loop's stats, each copied on its own loop so the read is safe. */
    LoopStats snapshot() throws InterruptedException {
        List<Future<LoopStats>> copies = new ArrayList<>();
        stats.forEach((loop, s) -> copies.add(loop.submit(s::copy)));
        LoopStats total = new LoopStats();
        for (Future<LoopStats> copy : copies) {
            try {
                total.add(copy.get(10, TimeUnit.SECONDS));
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                throw new IllegalStateException("could not read an event loop's stats", e);
            }
        }
        return total;
    }
}
