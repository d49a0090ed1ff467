package dev.flotilla.kv.v3;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.flotilla.kv.mvcc.ReadView;
import dev.flotilla.kv.mvcc.WriteTxn;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseCheckpointRequest;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseCheckpointResponse;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseGrantRequest;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseGrantResponse;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseRevokeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseRevokeResponse;
import dev.flotilla.proto.etcd.etcdserverpb.ResponseHeader;
import dev.flotilla.proto.store.KeyRecord;
import dev.flotilla.proto.store.LeaseRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * v3 leases. Grants, revokes and checkpoints are log commands applied here; expiry instants
 * live in memory only, as in etcd's lessor: keep-alives renew them without touching the log,
 * and the leader proposes a revoke when one passes. A checkpoint records each lease's
 * remaining TTL so that a restarted member (or a new leader) does not hand out more time
 * than the lease had left.
 */
public final class V3Lessor {
  /** etcd's smallest TTL with its default election timeout (1.5 s rounded up). */
  public static final long MIN_TTL = 2;
  /** etcd's MaxLeaseTTL. */
  public static final long MAX_TTL = 9_000_000_000L;

  private final Map<Long, Long> expiry = new ConcurrentHashMap<>(); // id → unix nanos
  private final Map<Long, Long> granted = new ConcurrentHashMap<>(); // id → TTL seconds

  /** Loads leases after a restart: each gets its checkpointed remaining TTL, or its full TTL. */
  public void recover(ReadView view, long nowNanos) {
    expiry.clear();
    granted.clear();
    for (byte[] b : view.leases()) {
      LeaseRecord r = parse(b);
      long ttl = r.getRemainingTtl() > 0 ? r.getRemainingTtl() : r.getTtl();
      granted.put(r.getId(), r.getTtl());
      expiry.put(r.getId(), nowNanos + ttl * 1_000_000_000L);
    }
  }

  /**
   * A new leader's view of lease expiry (etcd's lessor Promote): every lease gets at least its
   * full TTL from now, since keep-alives may have gone to the old leader only.
   */
  public void promote(long nowNanos) {
    for (Map.Entry<Long, Long> e : granted.entrySet()) {
      long atLeast = nowNanos + e.getValue() * 1_000_000_000L;
      expiry.merge(e.getKey(), atLeast, Math::max);
    }
  }

  static LeaseRecord parse(byte[] b) {
    try {
      return LeaseRecord.parseFrom(b);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt lease record in the store", e);
    }
  }

  /** The TTL a grant of {@code ttl} seconds really gets. */
  public static long effectiveTtl(long ttl) {
    return Math.max(ttl, MIN_TTL);
  }

  public LeaseGrantResponse grant(WriteTxn txn, LeaseGrantRequest r, long nowNanos) throws V3Error {
    if (r.getID() == 0) {
      // the API picks an id for 0 before proposing; etcd's lessor takes any other id, negative too
      throw V3Error.leaseNotFound();
    }
    if (r.getTTL() > MAX_TTL) {
      throw new V3Error(V3Error.Code.OUT_OF_RANGE, "etcdserver: too large lease TTL");
    }
    if (txn.getLease(r.getID()) != null) {
      throw new V3Error(V3Error.Code.FAILED_PRECONDITION, "etcdserver: lease already exists");
    }
    long ttl = effectiveTtl(r.getTTL());
    txn.putLease(r.getID(), LeaseRecord.newBuilder().setId(r.getID()).setTtl(ttl).build().toByteArray());
    granted.put(r.getID(), ttl);
    expiry.put(r.getID(), nowNanos + ttl * 1_000_000_000L);
    return LeaseGrantResponse.newBuilder().setID(r.getID()).setTTL(ttl)
        .setHeader(ResponseHeader.newBuilder().setRevision(txn.revision())).build();
  }

  /** Deletes the lease and every key attached to it, in one revision. */
  public LeaseRevokeResponse revoke(WriteTxn txn, LeaseRevokeRequest r) throws V3Error {
    if (txn.getLease(r.getID()) == null) {
      throw V3Error.leaseNotFound();
    }
    for (byte[] key : txn.leaseKeys(r.getID())) {
      KeyRecord rec = txn.get(key);
      if (rec != null) {
        txn.writeRevision();
        txn.delete(rec);
      }
    }
    txn.deleteLease(r.getID());
    expiry.remove(r.getID());
    granted.remove(r.getID());
    return LeaseRevokeResponse.newBuilder()
        .setHeader(ResponseHeader.newBuilder().setRevision(txn.revision())).build();
  }

  /**
   * Records each lease's remaining TTL (what a restart or a new leader starts from) and sets this
   * member's clock for it to match: a checkpoint is also how a keep-alive that reached a follower
   * renews the lease everywhere.
   */
  public LeaseCheckpointResponse checkpoint(WriteTxn txn, LeaseCheckpointRequest r, long nowNanos) {
    for (var c : r.getCheckpointsList()) {
      byte[] b = txn.getLease(c.getID());
      if (b != null) {
        txn.putLease(c.getID(), parse(b).toBuilder().setRemainingTtl(c.getRemainingTTL()).build().toByteArray());
        expiry.put(c.getID(), nowNanos + c.getRemainingTTL() * 1_000_000_000L);
      }
    }
    return LeaseCheckpointResponse.newBuilder()
        .setHeader(ResponseHeader.newBuilder().setRevision(txn.revision())).build();
  }

  /** Keeps a lease alive: its TTL starts over. Returns the TTL, or 0 when it does not exist. */
  public long renew(long id, long nowNanos) {
    Long ttl = granted.get(id);
    if (ttl == null) {
      return 0;
    }
    Long old = expiry.get(id);
    if (old != null && old <= nowNanos) {
      return 0; // expired: its revoke is on its way
    }
    expiry.put(id, nowNanos + ttl * 1_000_000_000L);
    return ttl;
  }

  /** Remaining seconds (rounded up), or -1 when the lease does not exist or has expired. */
  public long remaining(long id, long nowNanos) {
    Long exp = expiry.get(id);
    if (exp == null || exp <= nowNanos) {
      return -1;
    }
    return (exp - nowNanos + 999_999_999L) / 1_000_000_000L;
  }

  /**
   * The TTL that TimeToLive reports: whole seconds left, truncated as etcd's
   * {@code int64(Remaining().Seconds())} does (a fresh 30 s lease shows 29; an expired lease whose
   * revoke is still on its way shows 0 or less). Only meaningful when {@link #exists} holds.
   */
  public long timeToLive(long id, long nowNanos) {
    Long exp = expiry.get(id);
    return exp == null ? -1 : (exp - nowNanos) / 1_000_000_000L;
  }

  public long grantedTtl(long id) {
    return granted.getOrDefault(id, 0L);
  }

  public boolean exists(long id) {
    return granted.containsKey(id);
  }

  public List<Long> ids() {
    return new ArrayList<>(granted.keySet());
  }

  /** Leases whose time ran out at {@code nowNanos}. */
  public List<Long> expired(long nowNanos) {
    List<Long> out = new ArrayList<>();
    expiry.forEach((id, exp) -> {
      if (exp <= nowNanos) {
        out.add(id);
      }
    });
    return out;
  }

  /** The earliest expiry, or Long.MAX_VALUE. */
  public long nextExpiry() {
    long min = Long.MAX_VALUE;
    for (long e : expiry.values()) {
      min = Math.min(min, e);
    }
    return min;
  }

  /** Keys attached to a lease, for TimeToLive with keys. */
  public static List<byte[]> keys(ReadView view, long id) {
    List<byte[]> out = new ArrayList<>();
    for (byte[] k : view.leaseKeys(id)) {
      out.add(java.util.Arrays.copyOfRange(k, 1, k.length));
    }
    return out;
  }
}
