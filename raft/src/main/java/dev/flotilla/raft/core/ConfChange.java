package dev.flotilla.raft.core;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * A one-member membership change (see the README for why one voter at a time). Proposed with
 * {@link RawNode#proposeConfChange}, carried in a {@link Entry.Type#CONF_CHANGE} entry, and in
 * effect on a member as soon as the entry is in that member's log.
 */
public record ConfChange(Type type, long nodeId) {

  public enum Type {
    /** Add a voter, or promote a learner to voter. */
    ADD_VOTER,
    /** Add a non-voting member that receives the log. */
    ADD_LEARNER,
    /** Remove a voter or learner. */
    REMOVE
  }

  private static final int ENCODED_BYTES = 9;

  public ConfChange {
    Objects.requireNonNull(type, "type");
    if (nodeId == 0) {
      throw new IllegalArgumentException("conf change node id must not be 0, got " + nodeId);
    }
  }

  public static ConfChange addVoter(long id) {
    return new ConfChange(Type.ADD_VOTER, id);
  }

  public static ConfChange addLearner(long id) {
    return new ConfChange(Type.ADD_LEARNER, id);
  }

  public static ConfChange remove(long id) {
    return new ConfChange(Type.REMOVE, id);
  }

  /** A fixed 9-byte form: type ordinal, then the node id big-endian. */
  public byte[] encode() {
    return encode(new byte[0]);
  }

  /** The 9-byte form followed by {@code context}: application bytes that travel with the change. */
  public byte[] encode(byte[] context) {
    return ByteBuffer.allocate(ENCODED_BYTES + context.length).put((byte) type.ordinal()).putLong(nodeId)
        .put(context).array();
  }

  /** The application bytes an encoded change carries (empty when none). */
  public static byte[] context(byte[] data) {
    return java.util.Arrays.copyOfRange(data, Math.min(ENCODED_BYTES, data.length), data.length);
  }

  public static ConfChange decode(byte[] data) {
    if (data.length < ENCODED_BYTES || data[0] < 0 || data[0] >= Type.values().length) {
      throw new IllegalArgumentException("not an encoded conf change: " + data.length + " bytes");
    }
    ByteBuffer buf = ByteBuffer.wrap(data);
    return new ConfChange(Type.values()[buf.get()], buf.getLong());
  }
}
