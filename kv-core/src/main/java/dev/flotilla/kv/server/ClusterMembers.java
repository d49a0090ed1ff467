package dev.flotilla.kv.server;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.flotilla.kv.mvcc.MvccStore;
import dev.flotilla.kv.mvcc.WriteTxn;
import dev.flotilla.proto.store.MemberAttributes;
import dev.flotilla.proto.store.MemberList;
import dev.flotilla.proto.store.MemberRecord;
import java.util.ArrayList;
import java.util.List;

/**
 * The cluster's members (id, name, peer and client URLs) as the replicated state says: written in
 * the store's meta by applied commands, so every member, and every restart, sees the same list.
 * Read from any thread; changed by the apply thread only.
 */
public final class ClusterMembers {
  static final String META_KEY = "members";

  private volatile List<MemberRecord> members;
  private volatile List<Long> removed = List.of();
  private volatile java.util.function.Consumer<MemberRecord> peerUrlsListener = m -> { };

  /** Called on the apply thread when a member is added or its peer URLs change. */
  void onPeerUrls(java.util.function.Consumer<MemberRecord> listener) {
    this.peerUrlsListener = listener;
  }

  ClusterMembers(MvccStore store) {
    reload(store);
  }

  /** Re-reads the list (after a snapshot replaced the store). */
  void reload(MvccStore store) {
    byte[] b = store.getMeta(META_KEY);
    try {
      MemberList list = b == null ? MemberList.getDefaultInstance() : MemberList.parseFrom(b);
      members = List.copyOf(list.getMembersList());
      removed = List.copyOf(list.getRemovedList());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt member list in the store", e);
    }
  }

  /** Tells the peer-URL listener of every member (after a snapshot replaced the list). */
  void announceAll() {
    members.forEach(peerUrlsListener);
  }

  public List<MemberRecord> list() {
    return members;
  }

  /** Whether {@code id} was a member once and was removed: it may not come back. */
  public boolean wasRemoved(long id) {
    return removed.contains(id);
  }

  public MemberRecord get(long id) {
    for (MemberRecord m : members) {
      if (m.getId() == id) {
        return m;
      }
    }
    return null;
  }

  /** Adds a member, or replaces its peer URLs and learner flag (keeping what it published itself). */
  void add(WriteTxn txn, MemberRecord m) {
    List<MemberRecord> next = new ArrayList<>();
    boolean replaced = false;
    for (MemberRecord old : members) {
      if (old.getId() == m.getId()) {
        next.add(old.toBuilder().clearPeerUrls().addAllPeerUrls(m.getPeerUrlsList()).setLearner(m.getLearner()).build());
        replaced = true;
      } else {
        next.add(old);
      }
    }
    if (!replaced) {
      next.add(m);
    }
    write(txn, next);
    peerUrlsListener.accept(m);
  }

  void publish(WriteTxn txn, MemberAttributes a) {
    List<MemberRecord> next = new ArrayList<>();
    for (MemberRecord old : members) {
      next.add(old.getId() == a.getId()
          ? old.toBuilder().setName(a.getName()).clearClientUrls().addAllClientUrls(a.getClientUrlsList()).build()
          : old);
    }
    write(txn, next);
  }

  void remove(WriteTxn txn, long id) {
    List<MemberRecord> next = new ArrayList<>(members);
    next.removeIf(m -> m.getId() == id);
    if (!removed.contains(id)) {
      List<Long> r = new ArrayList<>(removed);
      r.add(id);
      removed = List.copyOf(r);
    }
    write(txn, next);
  }

  private void write(WriteTxn txn, List<MemberRecord> next) {
    txn.putMeta(META_KEY, MemberList.newBuilder().addAllMembers(next).addAllRemoved(removed).build().toByteArray());
    members = List.copyOf(next);
  }
}
