package dev.flotilla.kv.server;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.flotilla.kv.mvcc.MvccStore;
import dev.flotilla.kv.mvcc.WriteTxn;
import dev.flotilla.proto.etcd.etcdserverpb.AlarmMember;
import dev.flotilla.proto.etcd.etcdserverpb.AlarmRequest;
import dev.flotilla.proto.etcd.etcdserverpb.AlarmResponse;
import dev.flotilla.proto.etcd.etcdserverpb.AlarmType;
import java.util.ArrayList;
import java.util.List;

/**
 * The cluster's raised alarms (etcd's alarm store): which member raised which alarm, kept in the
 * store's meta by applied {@code AlarmRequest}s so every member and every restart agrees. While
 * NOSPACE is raised, the state machine refuses v3 writes that could grow the store.
 * Read from any thread; changed by the apply thread only.
 */
public final class Alarms {
  static final String META_KEY = "alarms";

  private volatile List<AlarmMember> raised = List.of();

  Alarms(MvccStore store) {
    reload(store);
  }

  /** Re-reads the alarms (after a snapshot replaced the store). */
  void reload(MvccStore store) {
    byte[] b = store.getMeta(META_KEY);
    try {
      raised = b == null ? List.of() : List.copyOf(AlarmResponse.parseFrom(b).getAlarmsList());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt alarm list in the store", e);
    }
  }

  public List<AlarmMember> list() {
    return raised;
  }

  public boolean active(AlarmType type) {
    return raised.stream().anyMatch(a -> a.getAlarm() == type);
  }

  /**
   * etcd's applier for Alarm: GET lists the alarms (of one type unless NONE); ACTIVATE raises one
   * and answers it; DEACTIVATE clears one and answers it (nothing when it was not raised).
   */
  AlarmResponse apply(WriteTxn txn, AlarmRequest r) {
    AlarmResponse.Builder resp = AlarmResponse.newBuilder();
    AlarmMember am = AlarmMember.newBuilder().setMemberID(r.getMemberID()).setAlarm(r.getAlarm()).build();
    switch (r.getAction()) {
      case GET -> raised.stream().filter(a -> r.getAlarm() == AlarmType.NONE || a.getAlarm() == r.getAlarm())
          .forEach(resp::addAlarms);
      case ACTIVATE -> {
        if (r.getAlarm() != AlarmType.NONE) {
          if (!raised.contains(am)) {
            List<AlarmMember> next = new ArrayList<>(raised);
            next.add(am);
            write(txn, next);
          }
          resp.addAlarms(am);
        }
      }
      case DEACTIVATE -> {
        if (raised.contains(am)) {
          List<AlarmMember> next = new ArrayList<>(raised);
          next.remove(am);
          write(txn, next);
          resp.addAlarms(am);
        }
      }
      default -> { }
    }
    return resp.build();
  }

  private void write(WriteTxn txn, List<AlarmMember> next) {
    txn.putMeta(META_KEY, AlarmResponse.newBuilder().addAllAlarms(next).build().toByteArray());
    raised = List.copyOf(next);
  }
}
