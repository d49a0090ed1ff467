package dev.flotilla.kv.api.v2;

import dev.flotilla.kv.mvcc.MvccStore;
import dev.flotilla.kv.mvcc.ReadView;
import dev.flotilla.kv.server.ApplyOutcome;
import dev.flotilla.kv.server.StoreMember;
import dev.flotilla.kv.v2.V2Error;
import dev.flotilla.kv.v2.V2ErrorCode;
import dev.flotilla.kv.v2.V2Event;
import dev.flotilla.kv.v2.V2Reader;
import dev.flotilla.kv.v2.V2WatcherHub;
import dev.flotilla.proto.store.StoreCommand;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The v2 keys API over the member: reads from a consistent view, writes through the log,
 * watches through the hub. Knows nothing of HTTP framing.
 */
final class V2KeysService {
  private final StoreMember member;
  private final long maxRequestBytes;
  private final V2Access access;
  private final V2ReadCache cache;

  V2KeysService(StoreMember member, long maxRequestBytes, long readCacheBytes) {
    this.member = member;
    this.cache = new V2ReadCache(readCacheBytes);
    this.access = new V2Access(member.machine().auth());
    this.maxRequestBytes = maxRequestBytes;
  }

  /** The v3 auth rules as they apply to v2 requests. */
  V2Access access() {
    return access;
  }

  StoreMember member() {
    return member;
  }

  long nowNanos() {
    return member.nowNanos();
  }

  /** A plain (serializable) read. */
  V2Event get(V2KeyRequest r) throws V2Error {
    try (ReadView view = member.store().snapshot()) {
      V2Event e = V2Reader.get(view, r.path(), r.recursive(), nowNanos());
      member.machine().v2Stats().get(true);
      return e;
    } catch (V2Error e) {
      member.machine().v2Stats().get(false);
      throw e;
    }
  }

  /**
   * A plain (serializable) read as its answer: the cached one when the store is in exactly the
   * state it was rendered from (see {@link V2ReadCache}), else rendered now and kept if it is a
   * function of the store's state alone (no TTL shown, no error but "Key not found").
   */
  V2ReadCache.Answer renderedGet(V2KeyRequest r) {
    MvccStore store = member.store();
    V2ReadCache.Key key = new V2ReadCache.Key(r.path(), r.recursive(), r.sorted());
    long stamp = store.stateStamp(); // 0 while a write is under way: then no cache either way
    V2ReadCache.Answer answer = cache.get(key, stamp);
    if (answer != null) {
      member.machine().v2Stats().get(answer.isEvent());
      member.metrics().v2ReadCache(true);
      return answer;
    }
    member.metrics().v2ReadCache(false);
    boolean reusable;
    try {
      V2Event e = get(r);
      answer = new V2ReadCache.Answer(HttpResponseStatus.OK, e.etcdIndex(), V2Json.eventBytes(e));
      reusable = !V2ReadCache.timeDependent(e.node());
    } catch (V2Error e) {
      answer = new V2ReadCache.Answer(HttpResponseStatus.valueOf(e.httpStatus()), e.index(), V2Json.errorBytes(e));
      reusable = e.code() == V2ErrorCode.KEY_NOT_FOUND;
    }
    if (reusable && store.unchangedSince(stamp)) { // the view read was taken under the stamp: its state
      cache.put(key, stamp, answer);
    }
    return answer;
  }

  /** A linearizable read: waits until everything committed before it is applied. */
  CompletableFuture<V2Event> quorumGet(V2KeyRequest r) {
    return member.log().readBarrier().thenApply(v -> {
      try {
        return get(r);
      } catch (V2Error e) {
        throw new CompletionException(e);
      }
    });
  }

  V2WatcherHub.Watcher watch(V2KeyRequest r, V2WatcherHub.Sink sink) throws V2Error {
    String clean = dev.flotilla.kv.v2.V2Path.clean(r.path());
    return member.machine().v2Watchers().watch(clean, r.recursive(), r.stream(), r.waitIndex(), sink);
  }

  /** A write: checked for size, proposed, answered once durable and applied. */
  CompletableFuture<ApplyOutcome> write(V2KeyRequest r) throws V2Error {
    long size = (long) r.value().length() + r.prevValue().length() + r.path().length();
    if (size > maxRequestBytes) {
      throw V2Error.tooLarge(member.machine().v2Watchers().currentIndex());
    }
    byte[] cmd = StoreCommand.newBuilder().setV2Write(r.toWrite(nowNanos())).build().toByteArray();
    return member.log().propose(cmd);
  }
}
