package dev.flotilla.raft.core;

/**
 * Appends sent to one follower and not yet acknowledged, as a ring of (last index, bytes). Full
 * when it holds {@code capacity} messages or {@code maxBytes} bytes: the leader then waits for
 * acknowledgements before sending more (flow control for a slow follower).
 */
final class Inflights {

  private final long[] indexes;
  private final long[] sizes;
  private final long maxBytes;
  private int start;
  private int count;
  private long bytes;

  Inflights(int capacity, long maxBytes) {
    this.indexes = new long[capacity];
    this.sizes = new long[capacity];
    this.maxBytes = maxBytes;
  }

  void add(long index, long size) {
    if (full()) {
      throw new IllegalStateException("cannot add into a full inflights window");
    }
    int next = (start + count) % indexes.length;
    indexes[next] = index;
    sizes[next] = size;
    count++;
    bytes += size;
  }

  /** Frees every in-flight append whose last index is {@code <= to}. */
  void freeLE(long to) {
    while (count > 0 && indexes[start] <= to) {
      bytes -= sizes[start];
      start = (start + 1) % indexes.length;
      count--;
    }
    if (count == 0) {
      start = 0;
    }
  }

  void freeFirstOne() {
    if (count > 0) {
      freeLE(indexes[start]);
    }
  }

  boolean full() {
    return count == indexes.length || (maxBytes != 0 && bytes >= maxBytes);
  }

  int count() {
    return count;
  }

  void reset() {
    start = 0;
    count = 0;
    bytes = 0;
  }
}
