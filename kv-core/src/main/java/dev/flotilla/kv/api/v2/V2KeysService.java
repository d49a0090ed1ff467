package dev.flotilla.kv.api.v2;

import dev.flotilla.kv.mvcc.ReadView;
import dev.flotilla.kv.server.ApplyOutcome;
import dev.flotilla.kv.server.StoreMember;
import dev.flotilla.kv.v2.V2Error;
import dev.flotilla.kv.v2.V2ErrorCode;
import dev.flotilla.kv.v2.V2Event;
import dev.flotilla.kv.v2.V2Reader;
import dev.flotilla.kv.v2.V2WatcherHub;
import dev.flotilla.proto.store.StoreCommand;
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

  V2KeysService(StoreMember member, long maxRequestBytes) {
    this.member = member;
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
