package dev.flotilla.kv.client;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A store client's open streams (watches, lease keep-alives) and whether the client is closed:
 * closing closes every stream still open, and a closed client refuses new calls.
 */
final class OpenStreams {
  private final Set<AutoCloseable> open = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  void add(AutoCloseable stream) {
    open.add(stream);
  }

  /** Whether {@code stream} was open (its first removal: a stream ends once). */
  boolean remove(AutoCloseable stream) {
    return open.remove(stream);
  }

  boolean closed() {
    return closed;
  }

  void ensureOpen() {
    if (closed) {
      throw new StoreException(StoreException.Code.CLOSED, "the store client is closed");
    }
  }

  /** Marks the client closed and closes its streams, best effort: the client's own shutdown follows. */
  void closeAll() {
    closed = true;
    for (AutoCloseable c : List.copyOf(open)) {
      try {
        c.close();
      } catch (Exception e) {
        // a stream that fails to close is ended by the client's shutdown that follows
      }
    }
  }
}
