package dev.flotilla.kv.server;

import dev.flotilla.kv.v3.V3Lessor;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseCheckpoint;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseCheckpointRequest;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseRevokeRequest;
import dev.flotilla.proto.store.StoreCommand;
import java.util.HashSet;
import java.util.Set;

/**
 * The leader's side of v3 leases: proposes a revoke for each lease whose time ran out, and
 * every {@link #CHECKPOINT_NANOS} a checkpoint of every lease's remaining TTL.
 * {@link #poll(long)} is driven by a thin thread in {@link StoreMember}.
 */
final class LeaseTicker {
  static final long CHECKPOINT_NANOS = 60_000_000_000L;
  private static final long MAX_WAIT_NANOS = 500_000_000L;

  private final CommandLog log;
  private final V3Lessor lessor;
  private final Set<Long> revoking = new HashSet<>();
  private long nextCheckpoint;

  LeaseTicker(CommandLog log, V3Lessor lessor) {
    this.log = log;
    this.lessor = lessor;
  }

  /** Acts at wall-clock {@code nowNanos}; returns the instant to be polled again. */
  synchronized long poll(long nowNanos) {
    for (long id : lessor.expired(nowNanos)) {
      if (revoking.add(id)) {
        byte[] cmd = StoreCommand.newBuilder()
            .setV3LeaseRevoke(LeaseRevokeRequest.newBuilder().setID(id)).build().toByteArray();
        log.propose(cmd).whenComplete((o, e) -> {
          synchronized (this) {
            revoking.remove(id);
          }
        });
      }
    }
    if (nextCheckpoint == 0) {
      nextCheckpoint = nowNanos + CHECKPOINT_NANOS;
    } else if (nowNanos >= nextCheckpoint) {
      nextCheckpoint = nowNanos + CHECKPOINT_NANOS;
      var req = LeaseCheckpointRequest.newBuilder();
      for (long id : lessor.ids()) {
        long left = lessor.remaining(id, nowNanos);
        if (left > 0) {
          req.addCheckpoints(LeaseCheckpoint.newBuilder().setID(id).setRemainingTTL(left));
        }
      }
      if (req.getCheckpointsCount() > 0) {
        log.propose(StoreCommand.newBuilder().setV3LeaseCheckpoint(req).build().toByteArray());
      }
    }
    long next = Math.min(lessor.nextExpiry(), nextCheckpoint);
    return Math.max(nowNanos + 1_000_000L, Math.min(next, nowNanos + MAX_WAIT_NANOS));
  }
}
