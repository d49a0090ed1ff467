package dev.flotilla.raft.core;

import java.nio.charset.StandardCharsets;
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
 */
final class ReadOnlyQueue {

  /** One request: who asked (this member or a follower), its context, the commit index at arrival. */
  record Pending(long from, byte[] context, long index, Set<Long> acks) {}

  private final LinkedHashMap<String, Pending> pending = new LinkedHashMap<>();

  private static String key(byte[] context) {
    return new String(context, StandardCharsets.ISO_8859_1); // one char per byte: a faithful map key
  }

  void add(long index, long from, byte[] context) {
    pending.putIfAbsent(key(context), new Pending(from, context, index, new HashSet<>()));
  }

  /** Records {@code id}'s ack for the request with {@code context}; the acks so far, or null if unknown. */
  Set<Long> recvAck(long id, byte[] context) {
    Pending p = pending.get(key(context));
    if (p == null) {
      return null;
    }
    p.acks().add(id);
    return p.acks();
  }

  /** Removes and returns the request with {@code context} and all requests queued before it. */
  List<Pending> advance(byte[] context) {
    String k = key(context);
    if (!pending.containsKey(k)) {
      return List.of();
    }
    List<Pending> out = new ArrayList<>();
    Iterator<Map.Entry<String, Pending>> it = pending.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<String, Pending> e = it.next();
      out.add(e.getValue());
      it.remove();
      if (e.getKey().equals(k)) {
        break;
      }
    }
    return out;
  }

  /** The context of the newest request, so regular heartbeats keep collecting acks for it; null if none. */
  byte[] lastPendingContext() {
    byte[] last = null;
    for (Pending p : pending.values()) {
      last = p.context();
    }
    return last;
  }
}
