package dev.flotilla.kv.v2;

import java.util.List;

/**
 * A node as the v2 API shows it (etcd's NodeExtern). {@code key} and {@code value} are byte
 * strings; {@code expireAtNanos} is 0 for a permanent node and {@code ttl} the seconds left
 * when the node was shown; {@code nodes} is null when the listing does not include children.
 */
public record V2Node(
    String key,
    String value,
    boolean dir,
    long expireAtNanos,
    long ttl,
    long modifiedIndex,
    long createdIndex,
    List<V2Node> nodes) {

  /** etcd's TTL: the seconds left, rounded up (1..n), or 0 for a permanent node. */
  public static long ttlAt(long expireAtNanos, long nowNanos) {
    if (expireAtNanos == 0) {
      return 0;
    }
    long left = expireAtNanos - nowNanos;
    long ttl = left / 1_000_000_000L;
    if (left % 1_000_000_000L > 0) {
      ttl++;
    }
    return ttl;
  }
}
