package dev.flotilla.scheduler.engine;

import com.google.protobuf.ByteString;
import dev.flotilla.kv.client.Compare;
import dev.flotilla.kv.client.GetResult;
import dev.flotilla.kv.client.KeepAlive;
import dev.flotilla.kv.client.KeyRange;
import dev.flotilla.kv.client.KeyValue;
import dev.flotilla.kv.client.LeaseInfo;
import dev.flotilla.kv.client.Op;
import dev.flotilla.kv.client.StoreClient;
import dev.flotilla.kv.client.StoreException;
import dev.flotilla.kv.client.Txn;
import dev.flotilla.kv.client.TxnResult;
import dev.flotilla.kv.client.WatchEvent;
import dev.flotilla.kv.client.WatchHandle;
import dev.flotilla.kv.client.WatchListener;
import dev.flotilla.scheduler.registry.ScheduleRegistry;
import dev.flotilla.scheduler.registry.store.StoreRegistry;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongFunction;

/**
 * The engine leader's lease in the store, as etcd's election recipe does it: a leader key whose
 * value is the holder, attached to a store lease of {@code ttlSeconds} that the holder keeps alive.
 * Taking it is a transaction that puts the key only if it is absent; the holder's lease running
 * out (a dead or cut-off engine) deletes the key, and the next candidate's attempt takes it. The
 * epoch is the key's create revision, which grows with every new holder; writes of the leader can
 * be fenced on it (the registry's {@code guardedBy}).
 *
 * <p>Expiry as the candidates see it: the store's remaining TTL of the holder's lease, read at the
 * attempt, added to the caller's {@code now}. A candidate that found the key held watches it from
 * then on ({@link #watchesHolder}): the key's deletion (released, or its lease expired) or a new
 * holder sets {@link #holderMayHaveChanged} and runs the {@link #signalChangesTo} callback, so
 * a waiting candidate makes no store requests until then or the holder's expiry.
 */
public final class StoreEngineLease implements EngineLease {
  private final StoreClient store;
  private final ByteString key;
  private final long ttlSeconds;
  private long leaseId;
  private KeepAlive keepAlive;
  /** The watch of the leader key while another holds it (null: none open). */
  private WatchHandle holderWatch;
  /** Set by {@link #holderWatch}'s thread on any change of the key, or when the watch ends. */
  private volatile boolean holderChanged = true;
  /** Set when {@link #holderWatch} ended by itself: the next attempt opens another. */
  private volatile boolean holderWatchEnded;
  private volatile Runnable onHolderChange = () -> {};

  public StoreEngineLease(StoreClient store, String key, long ttlSeconds) {
    if (ttlSeconds < 2) {
      throw new IllegalArgumentException("the engine lease TTL must be at least 2 s (the store's minimum), got "
          + ttlSeconds);
    }
    this.store = store;
    this.key = ByteString.copyFromUtf8(key);
    this.ttlSeconds = ttlSeconds;
  }

  /**
   * The fencing for {@link EngineRegistry#fenced}: for a term's epoch, {@code registry} with every
   * schedule write conditional on the leader key's create revision still being that epoch.
   */
  public LongFunction<ScheduleRegistry> fence(StoreRegistry registry) {
    return epoch -> registry.guardedBy(Compare.createRevision(key, Compare.Result.EQUAL, epoch));
  }

  /** Runs {@code signal} (on the store client's thread) whenever the watched holder may have changed. */
  public void signalChangesTo(Runnable signal) {
    onHolderChange = Objects.requireNonNull(signal);
  }

  @Override
  public boolean watchesHolder() {
    return true;
  }

  @Override
  public boolean holderMayHaveChanged() {
    return holderChanged;
  }

  @Override
  public synchronized LeaseStatus tryAcquire(String candidate, long nowNanos) {
    holderChanged = false; // a change from here on is in the read below or seen by the watch
    try {
      return attempt(candidate, nowNanos);
    } catch (RuntimeException e) {
      holderChanged = true; // the attempt did not see the key: the next round asks again
      throw e;
    }
  }

  private LeaseStatus attempt(String candidate, long nowNanos) {
    GetResult read = store.get(KeyRange.key(key));
    Optional<KeyValue> current = read.first();
    if (current.isPresent() && current.get().valueUtf8().equals(candidate) && current.get().lease() == leaseId
        && keepAlive != null && !keepAlive.lost().isDone()) {
      // ours, kept alive in the background: renewed
      closeHolderWatch();
      return new LeaseStatus(candidate, current.get().createRevision(), nowNanos + ttlNanos());
    }
    if (current.isPresent()) {
      watchHolder(read.revision());
      return held(current.get(), nowNanos);
    }
    closeHolderWatch();
    dropOwnLease();
    long lease = store.grant(ttlSeconds).id();
    TxnResult r = store.txn(Txn.when(Compare.absent(key))
        .then(Op.put(key, ByteString.copyFromUtf8(candidate), lease))
        .orElse(Op.get(KeyRange.key(key))));
    if (!r.succeeded()) {
      store.revoke(lease); // somebody else was quicker
      watchHolder(r.revision());
      return held(r.result(0, GetResult.class).first().orElseThrow(), nowNanos);
    }
    leaseId = lease;
    keepAlive = store.keepAlive(lease);
    return new LeaseStatus(candidate, r.revision(), nowNanos + ttlNanos());
  }

  private LeaseStatus held(KeyValue kv, long nowNanos) {
    long remaining = ttlSeconds;
    try {
      LeaseInfo info = store.timeToLive(kv.lease());
      remaining = info.exists() ? Math.max(0, info.ttlSeconds()) : 0;
    } catch (StoreException e) {
      // the lease is gone or the store is unsure: assume a full TTL rather than an early takeover
    }
    return new LeaseStatus(kv.value().toString(StandardCharsets.UTF_8), kv.createRevision(),
        nowNanos + remaining * 1_000_000_000L);
  }

  /**
   * Watches the leader key for changes after {@code revision} (the read that found it held), unless
   * a watch is open already; a watch that ends (compacted, store gone) counts as a change, and the
   * next attempt opens another.
   */
  private void watchHolder(long revision) {
    if (holderWatch != null && holderWatchEnded) {
      closeHolderWatch();
    }
    if (holderWatch != null) {
      return;
    }
    holderWatchEnded = false;
    try {
      holderWatch = store.watch(KeyRange.key(key), revision + 1, new WatchListener() {
        @Override
        public void onEvents(List<WatchEvent> events) {
          changed(false);
        }

        @Override
        public void onCompacted(long compactRevision) {
          changed(true);
        }

        @Override
        public void onError(StoreException error) {
          changed(true);
        }
      });
    } catch (StoreException e) {
      holderChanged = true; // not watched: the next round asks again
    }
  }

  /** On the client's thread: never takes this object's lock (closing a watch may wait for that thread). */
  private void changed(boolean watchEnded) {
    if (watchEnded) {
      holderWatchEnded = true;
    }
    holderChanged = true;
    onHolderChange.run();
  }

  private void closeHolderWatch() {
    if (holderWatch != null) {
      holderWatch.close();
      holderWatch = null;
    }
  }

  /** Revokes a lease this candidate held but lost (its key gone): it must not linger. */
  private void dropOwnLease() {
    if (keepAlive != null) {
      keepAlive.close();
      keepAlive = null;
    }
    if (leaseId != 0) {
      try {
        store.revoke(leaseId);
      } catch (StoreException e) {
        // already gone
      }
      leaseId = 0;
    }
  }

  @Override
  public synchronized void release(String candidate) {
    closeHolderWatch();
    Optional<KeyValue> current = store.get(KeyRange.key(key)).first();
    if (current.isPresent() && current.get().valueUtf8().equals(candidate) && current.get().lease() == leaseId) {
      dropOwnLease(); // revoking the lease deletes the key at once
    }
  }

  @Override
  public long ttlNanos() {
    return ttlSeconds * 1_000_000_000L;
  }
}
