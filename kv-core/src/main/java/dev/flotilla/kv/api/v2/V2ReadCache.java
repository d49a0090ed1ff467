package dev.flotilla.kv.api.v2;

import dev.flotilla.kv.v2.V2Node;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Rendered answers of plain v2 GETs, reused while the store stays exactly as it was when they were
 * rendered: service discovery polls a few unchanged keys, and a repeat GET then skips the store
 * read and the JSON encoding. Every answer is tagged with the store's state stamp
 * ({@code MvccStore.stateStamp()}) it was read at, and only a lookup with that same stamp finds
 * it: any write of the store changes the stamp, so one write makes every answer unreachable.
 *
 * <p>The answers of one stamp form a generation; a put with a newer stamp starts a new one (the
 * old is dropped whole), a put with an older one is ignored, and a generation that would pass
 * {@code maxBytes} starts over empty. Thread-safe: the event loops share one.
 */
final class V2ReadCache {
  /**
   * What, besides the store's state, decides a plain GET's answer. {@code path} is the request's
   * path as given (not cleaned: two spellings are two entries, never a wrong one); {@code sorted}
   * changes nothing today (children always come in key order) but is part of the request.
   */
  record Key(String path, boolean recursive, boolean sorted) {}

  /** An answer: its status, its X-Etcd-Index (an event's also brings X-Raft-*), its JSON body. */
  record Answer(HttpResponseStatus status, long etcdIndex, byte[] body) {
    boolean isEvent() {
      return status.code() < 400;
    }
  }

  /** Roughly what an entry costs besides its body and path: map node, key, answer, array headers. */
  static final int ENTRY_OVERHEAD_BYTES = 160;

  private final long maxBytes;
  private final AtomicReference<Generation> current = new AtomicReference<>(new Generation(0));

  V2ReadCache(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  private static final class Generation {
    final long stamp;
    final ConcurrentHashMap<Key, Answer> answers = new ConcurrentHashMap<>();
    final AtomicLong bytes = new AtomicLong();

    Generation(long stamp) {
      this.stamp = stamp;
    }
  }

  /** The answer rendered at {@code stamp} for {@code key}, or null. */
  Answer get(Key key, long stamp) {
    Generation g = current.get();
    return stamp != 0 && g.stamp == stamp ? g.answers.get(key) : null;
  }

  /**
   * Keeps {@code answer}, rendered from exactly the state {@code stamp} names. Only equal stamps
   * make a hit, which is what keeps answers right; their order only decides what is kept:
   * {@code StampedLock}'s stamps grow with every write, so an answer from an older state than the
   * generation's is ignored (it could never be found again) rather than displacing newer ones.
   */
  void put(Key key, long stamp, Answer answer) {
    long cost = cost(key, answer);
    if (stamp == 0 || cost > maxBytes / 8) {
      return;
    }
    Generation g = current.get();
    if (g.stamp != stamp) {
      if (g.stamp > stamp) {
        return;
      }
      g = replace(g, stamp);
    }
    if (g.bytes.addAndGet(cost) > maxBytes) {
      g = replace(g, stamp); // full: start over, so that what is asked for now gets in
      g.bytes.addAndGet(cost);
    }
    g.answers.put(key, answer);
  }

  /** {@code g}'s successor for {@code stamp}, empty, unless another thread replaced it first. */
  private Generation replace(Generation g, long stamp) {
    Generation fresh = new Generation(stamp);
    if (current.compareAndSet(g, fresh)) {
      return fresh;
    }
    Generation other = current.get();
    return other.stamp == stamp ? other : fresh; // a newer one: fill a generation nobody reads
  }

  /** The bytes the current generation holds, counted as {@link #put} counts them. */
  long bytes() {
    return current.get().bytes.get();
  }

  static long cost(Key key, Answer answer) {
    return answer.body().length + 2L * key.path().length() + ENTRY_OVERHEAD_BYTES;
  }

  /**
   * Whether an answer showing {@code node} depends on the time as well as on the store: a node
   * with an expiry, or one below it, shows its seconds left ("ttl"), which move.
   */
  static boolean timeDependent(V2Node node) {
    if (node == null) {
      return false;
    }
    if (node.expireAtNanos() != 0) {
      return true;
    }
    if (node.nodes() != null) {
      for (V2Node child : node.nodes()) {
        if (timeDependent(child)) {
          return true;
        }
      }
    }
    return false;
  }
}
