package dev.flotilla.kv.client;

import com.google.protobuf.ByteString;

/**
 * Flotilla's own client of the v3 store (KV, Txn, Watch, Lease), the one interface the
 * scheduler and the agent use: {@link JetcdStoreClient} for a remote kvd or etcd,
 * {@link InProcessStoreClient} for the member embedded in this JVM. Every answer carries the
 * store revision it was given at.
 *
 * <p>Calls block until the store answers or the client's request timeout passes; failures are
 * {@link StoreException}s. Reads are linearizable. Watch listeners and keep-alive callbacks run
 * on the client's own threads.
 */
public interface StoreClient extends AutoCloseable {

  /** The keys of {@code range} now, in key order. */
  default GetResult get(KeyRange range) {
    return get(range, 0);
  }

  /** The keys of {@code range} at {@code revision} (0: now); COMPACTED or FUTURE_REVISION otherwise. */
  default GetResult get(KeyRange range, long revision) {
    return get(range, revision, 0);
  }

  /**
   * The first {@code limit} keys of {@code range} (0: all) at {@code revision} (0: now), in key
   * order: a reader that needs the head of a long range (a page) is not sent the rest of it.
   */
  GetResult get(KeyRange range, long revision, long limit);

  default PutResult put(ByteString key, ByteString value) {
    return put(key, value, 0);
  }

  /** Writes a key attached to {@code lease} (0: none); LEASE_NOT_FOUND when the lease is gone. */
  PutResult put(ByteString key, ByteString value, long lease);

  DeleteResult delete(KeyRange range);

  TxnResult txn(Txn txn);

  /**
   * Watches {@code range} from {@code fromRevision} (0: from the next change), catching up on
   * history first: every change from that revision on reaches the listener once, in order. To
   * miss nothing after a read at revision R, watch from R + 1.
   */
  WatchHandle watch(KeyRange range, long fromRevision, WatchListener listener);

  /** Compacts history before {@code revision}; returns the store revision. */
  long compact(long revision);

  LeaseGrant grant(long ttlSeconds);

  /** Revokes a lease, deleting its keys in one revision (returned); LEASE_NOT_FOUND when gone. */
  long revoke(long lease);

  /** Keeps {@code lease} alive until the handle is closed or the lease is lost. */
  KeepAlive keepAlive(long lease);

  LeaseInfo timeToLive(long lease);

  /** Ends every watch and keep-alive of this client. */
  @Override
  void close();

  static ByteString bytes(String utf8) {
    return ByteString.copyFromUtf8(utf8);
  }
}
