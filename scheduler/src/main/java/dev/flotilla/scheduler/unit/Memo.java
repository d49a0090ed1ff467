package dev.flotilla.scheduler.unit;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * What was computed from a unit file (its parse, its [X-Fleet] section), kept for the next equal
 * one: the instances of a template share one file, so 100,000 of them are read once, not 100,000
 * times. Bounded: once it holds {@code kept} entries it starts over, since a cluster has few
 * distinct files and a workload of unique ones gains nothing from it. Any thread; the values are
 * shared between threads, so they must be immutable. Two threads may compute the same value at
 * once (no lock is held while computing); either result serves.
 */
public final class Memo<K, V> {
  private final Map<K, V> done = new ConcurrentHashMap<>();
  private final int kept;
  private final Function<K, V> compute;

  public Memo(int kept, Function<K, V> compute) {
    this.kept = kept;
    this.compute = Objects.requireNonNull(compute);
  }

  /** The value for {@code key}, computed now if not kept. */
  public V get(K key) {
    V v = done.get(key);
    if (v == null) {
      v = compute.apply(key);
      if (done.size() >= kept) {
        done.clear();
      }
      done.put(key, v);
    }
    return v;
  }
}
