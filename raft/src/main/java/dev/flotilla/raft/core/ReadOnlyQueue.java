package dev.flotilla.raft.core;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * ReadIndex requests a leader holds until a quorum acknowledges a heartbeat carrying their context
 * (etcd's readOnly). Requests are answered in arrival order: a quorum ack for one confirms every
 * request queued before it too.
 *
 * <p>Heartbeats carry a request's context followed by its round (a number given when it was
 * queued), and an ack counts only for the round it answers. A context can be asked again after it
 * was answered (a follower's retry crossing the answer); acks of its first round, arriving late,
 * must not confirm the new request, let alone those queued before it: a leader paused and deposed
 * found such acks in its inbox on waking and answered new reads from its stale state.
 */
final class ReadOnlyQueue {

  /** One request: who asked (this member or a follower), its context, the commit index at arrival. */
  record Pending(long from, byte[] context, long index, Set<Long> acks, long round) {}

  private static final int ROUND_BYTES = 8;
  private final LinkedHashMap<String, Pending> pending = new LinkedHashMap<>();
  private long rounds;

  private static String key(byte[] context) {
    return new String(context, StandardCharsets.ISO_8859_1); // one char per byte: a faithful map key
  }

  void add(long index, long from, byte[] context) {
    pending.computeIfAbsent(key(context), k -> new Pending(from, context, index, new HashSet<>(), ++rounds));
  }

  /** What heartbeats for the pending request with {@code context} carry: the context and its round. */
  byte[] heartbeatContext(byte[] context) {
    Pending p = pending.get(key(context));
    return p == null ? null : heartbeatContext(p);
  }

  private static byte[] heartbeatContext(Pending p) {
    return ByteBuffer.allocate(p.context().length + ROUND_BYTES).put(p.context()).putLong(p.round()).array();
  }

  /** The pending request a heartbeat context names, if it is of that request's round; else null. */
  private Pending byHeartbeat(byte[] heartbeatContext) {
    if (heartbeatContext.length < ROUND_BYTES) {
      return null;
    }
    int n = heartbeatContext.length - ROUND_BYTES;
    Pending p = pending.get(key(Arrays.copyOf(heartbeatContext, n)));
    return p != null && p.round() == ByteBuffer.wrap(heartbeatContext, n, ROUND_BYTES).getLong() ? p : null;
  }

  /** Records this member's own ack for the request with {@code context} (just queued). */
  void ackSelf(long id, byte[] context) {
    Pending p = pending.get(key(context));
    if (p != null) {
      p.acks().add(id);
    }
  }

  /**
   * Records {@code id}'s ack of the heartbeat that carried {@code heartbeatContext}; the acks of
   * that request so far, or null if no pending request is of that round.
   */
  Set<Long> recvAck(long id, byte[] heartbeatContext) {
    Pending p = byHeartbeat(heartbeatContext);
    if (p == null) {
      return null;
    }
    p.acks().add(id);
    return p.acks();
  }

  /** Removes and returns the request {@code heartbeatContext} names and all requests queued before it. */
  List<Pending> advance(byte[] heartbeatContext) {
    Pending target = byHeartbeat(heartbeatContext);
    if (target == null) {
      return List.of();
    }
    List<Pending> out = new ArrayList<>();
    Iterator<Pending> it = pending.values().iterator();
    while (it.hasNext()) {
      Pending p = it.next();
      out.add(p);
      it.remove();
      if (p == target) {
        break;
      }
    }
    return out;
  }

  /** The heartbeat context of the newest request, so regular heartbeats keep collecting acks for it; null if none. */
  byte[] lastPendingContext() {
    Pending last = null;
    for (Pending p : pending.values()) {
      last = p;
    }
    return last == null ? null : heartbeatContext(last);
  }
}
