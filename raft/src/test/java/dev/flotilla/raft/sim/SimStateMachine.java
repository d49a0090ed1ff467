package dev.flotilla.raft.sim;

import dev.flotilla.raft.core.ConfChange;
import dev.flotilla.raft.core.ConfState;
import dev.flotilla.raft.core.Entry;
import java.nio.ByteBuffer;

/**
 * The application every simulated member runs: a running 64-bit hash of everything applied. Two
 * members with equal (applied index, hash) hold the same state; a snapshot is those 16 bytes.
 * It also tracks the membership as of its applied index, which a snapshot must record.
 */
public final class SimStateMachine {

  private long applied;
  private long hash;
  private ConfState conf = ConfState.EMPTY;

  public ConfState conf() {
    return conf;
  }

  public long applied() {
    return applied;
  }

  public long hash() {
    return hash;
  }

  void apply(Entry e) {
    long h = hash * 0x100000001B3L + e.type().ordinal() + 1;
    for (byte b : e.data()) {
      h = (h ^ (b & 0xff)) * 0x100000001B3L;
    }
    hash = h;
    applied = e.index();
    if (e.isConfChange()) {
      conf = conf.apply(ConfChange.decode(e.data()));
    }
  }

  byte[] encode() {
    return ByteBuffer.allocate(16).putLong(applied).putLong(hash).array();
  }

  void restore(long index, ConfState confState, byte[] data) {
    conf = confState;
    if (data.length == 0) {
      applied = index;
      hash = 0;
      return;
    }
    ByteBuffer buf = ByteBuffer.wrap(data);
    applied = buf.getLong();
    hash = buf.getLong();
    if (applied != index) {
      throw new InvariantViolation("snapshot at index " + index + " holds state of index " + applied);
    }
  }
}
