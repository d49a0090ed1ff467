package dev.flotilla.bench.fleet;

import com.google.protobuf.ByteString;
import dev.flotilla.kv.client.DeleteResult;
import dev.flotilla.kv.client.GetResult;
import dev.flotilla.kv.client.KeepAlive;
import dev.flotilla.kv.client.KeyRange;
import dev.flotilla.kv.client.LeaseGrant;
import dev.flotilla.kv.client.LeaseInfo;
import dev.flotilla.kv.client.Op;
import dev.flotilla.kv.client.PutResult;
import dev.flotilla.kv.client.StoreClient;
import dev.flotilla.kv.client.Txn;
import dev.flotilla.kv.client.TxnResult;
import dev.flotilla.kv.client.WatchHandle;
import dev.flotilla.kv.client.WatchListener;
import java.util.concurrent.atomic.LongAdder;

/**
 * A {@link StoreClient} that passes every call to the real one and counts the requests it makes,
 * so the benchmark can say how many store round trips (ranges, puts, deletes, txns) and how many
 * operations inside txns one party (the engine, the submitters) cost. Closing it closes nothing:
 * the wrapped client is the caller's.
 */
final class CountingStoreClient implements StoreClient {

    /** Requests made so far; {@code txnOps} counts the ops inside txns (puts, deletes, gets). */
    record Counts(long ranges, long puts, long deletes, long txns, long txnOps, long failedTxns, long watches,
            long leaseCalls, long readTxns, long waitNanos) {
        long requests() {
            return ranges + puts + deletes + txns;
        }

        Counts minus(Counts o) {
            return new Counts(ranges - o.ranges, puts - o.puts, deletes - o.deletes, txns - o.txns,
                    txnOps - o.txnOps, failedTxns - o.failedTxns, watches - o.watches, leaseCalls - o.leaseCalls,
                    readTxns - o.readTxns, waitNanos - o.waitNanos);
        }
    }

    private final StoreClient client;
    private final LongAdder ranges = new LongAdder();
    private final LongAdder puts = new LongAdder();
    private final LongAdder deletes = new LongAdder();
    private final LongAdder txns = new LongAdder();
    private final LongAdder txnOps = new LongAdder();
    private final LongAdder failedTxns = new LongAdder();
    private final LongAdder watches = new LongAdder();
    private final LongAdder leaseCalls = new LongAdder();
    private final LongAdder readTxns = new LongAdder();
    private final LongAdder waitNanos = new LongAdder();

    CountingStoreClient(StoreClient client) {
        this.client = client;
    }

    Counts counts() {
        return new Counts(ranges.sum(), puts.sum(), deletes.sum(), txns.sum(), txnOps.sum(), failedTxns.sum(),
                watches.sum(), leaseCalls.sum(), readTxns.sum(), waitNanos.sum());
    }

    @Override
    public GetResult get(KeyRange range, long revision, long limit) {
        ranges.increment();
        long t0 = System.nanoTime();
        try {
            return client.get(range, revision, limit);
        } finally {
            waitNanos.add(System.nanoTime() - t0);
        }
    }

    @Override
    public PutResult put(ByteString key, ByteString value, long lease) {
        puts.increment();
        return client.put(key, value, lease);
    }

    @Override
    public DeleteResult delete(KeyRange range) {
        deletes.increment();
        return client.delete(range);
    }

    @Override
    public TxnResult txn(Txn txn) {
        txns.increment();
        txnOps.add(Math.max(txn.success().size(), txn.failure().size()));
        if (txn.compares().isEmpty() && txn.success().stream().allMatch(op -> op instanceof Op.Get)) {
            readTxns.increment();
        }
        long t0 = System.nanoTime();
        TxnResult r;
        try {
            r = client.txn(txn);
        } finally {
            waitNanos.add(System.nanoTime() - t0);
        }
        if (!r.succeeded() && !txn.compares().isEmpty()) {
            failedTxns.increment();
        }
        return r;
    }

    @Override
    public WatchHandle watch(KeyRange range, long fromRevision, WatchListener listener) {
        watches.increment();
        return client.watch(range, fromRevision, listener);
    }

    @Override
    public long compact(long revision) {
        return client.compact(revision);
    }

    @Override
    public LeaseGrant grant(long ttlSeconds) {
        leaseCalls.increment();
        return client.grant(ttlSeconds);
    }

    @Override
    public long revoke(long lease) {
        leaseCalls.increment();
        return client.revoke(lease);
    }

    @Override
    public KeepAlive keepAlive(long lease) {
        return client.keepAlive(lease);
    }

    @Override
    public LeaseInfo timeToLive(long lease) {
        leaseCalls.increment();
        return client.timeToLive(lease);
    }

    @Override
    public void close() {
        // the wrapped client belongs to the caller
    }
}
