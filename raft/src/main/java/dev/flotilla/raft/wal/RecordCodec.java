package dev.flotilla.raft.wal;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Frames records as {@code [u32 payload length][u32 crc32c of payload][payload]}, big-endian, where
 * payload = one type byte + body:
 *
 * <pre>
 *   HEADER     0x01  int magic, int version, long sequence, long firstIndex
 *   ENTRY      0x02  long index, long term, data bytes (the rest of the payload)
 *   HARD_STATE 0x03  long term, long vote, long commit
 *   SNAPSHOT   0x04  long index, long term
 *   RESET      0x05  long index, long term   (a snapshot marker that replaces the whole log)
 * </pre>
 *
 * Type bytes start at 1 and payloads are never empty, so zero-filled space never reads as a record.
 * One instance per writer or reader: it reuses a CRC32C and is not thread-safe.
 */
final class RecordCodec {

  static final int FRAME_HEADER_BYTES = 8;
  /** Upper bound of a payload; anything longer in a length field is damage, not data. */
  static final int MAX_PAYLOAD_BYTES = 256 << 20;
  static final int ENTRY_OVERHEAD_BYTES = 1 + 8 + 8;

  static final byte HEADER = 0x01;
  static final byte ENTRY = 0x02;
  static final byte HARD_STATE = 0x03;
  static final byte SNAPSHOT = 0x04;
  static final byte RESET = 0x05;

  private final CRC32C crc = new CRC32C();

  /** Bytes the framed record takes on disk. */
  static int frameBytes(WalRecord record) {
    return FRAME_HEADER_BYTES + payloadBytes(record);
  }

  static int payloadBytes(WalRecord record) {
    if (record instanceof WalEntry e) {
      return ENTRY_OVERHEAD_BYTES + e.data().length;
    } else if (record instanceof HardState) {
      return 1 + 24;
    } else if (record instanceof SnapshotMarker) {
      return 1 + 16;
    } else {
      return 1 + 4 + 4 + 8 + 8;
    }
  }

  /** Writes the framed record at {@code dst}'s position, which must have room for it. */
  void encode(WalRecord record, ByteBuffer dst) {
    int start = dst.position();
    int payloadStart = start + FRAME_HEADER_BYTES;
    dst.position(payloadStart);
    if (record instanceof WalEntry e) {
      dst.put(ENTRY).putLong(e.index()).putLong(e.term()).put(e.data());
    } else if (record instanceof HardState hs) {
      dst.put(HARD_STATE).putLong(hs.term()).putLong(hs.vote()).putLong(hs.commit());
    } else if (record instanceof SnapshotMarker s) {
      dst.put(s.replacesLog() ? RESET : SNAPSHOT).putLong(s.index()).putLong(s.term());
    } else if (record instanceof SegmentHeader h) {
      dst.put(HEADER).putInt(h.magic()).putInt(h.version()).putLong(h.sequence()).putLong(h.firstIndex());
    }
    int end = dst.position();
    dst.putInt(start, end - payloadStart);
    dst.putInt(start + 4, crcOf(dst.duplicate().position(payloadStart).limit(end)));
  }

  /** CRC32C of the buffer's remaining bytes; does not move the caller's buffer. */
  int crcOf(ByteBuffer payload) {
    crc.reset();
    crc.update(payload.duplicate());
    return (int) crc.getValue();
  }

  /**
   * Decodes a payload whose CRC already matched.
   *
   * @throws IllegalArgumentException naming what is wrong, for a payload no writer of this format
   *     produces (unknown type, wrong length, out-of-range field)
   */
  static WalRecord decode(ByteBuffer payload) {
    byte type = payload.get(payload.position());
    int bodyBytes = payload.remaining() - 1;
    ByteBuffer body = payload.duplicate().position(payload.position() + 1);
    switch (type) {
      case ENTRY -> {
        requireAtLeast("entry", bodyBytes, ENTRY_OVERHEAD_BYTES - 1);
        long index = body.getLong();
        long term = body.getLong();
        byte[] data = new byte[body.remaining()];
        body.get(data);
        return new WalEntry(index, term, data);
      }
      case HARD_STATE -> {
        requireExactly("hard state", bodyBytes, 24);
        return new HardState(body.getLong(), body.getLong(), body.getLong());
      }
      case SNAPSHOT, RESET -> {
        requireExactly("snapshot marker", bodyBytes, 16);
        return new SnapshotMarker(body.getLong(), body.getLong(), type == RESET);
      }
      case HEADER -> {
        requireExactly("segment header", bodyBytes, 24);
        return new SegmentHeader(body.getInt(), body.getInt(), body.getLong(), body.getLong());
      }
      default -> throw new IllegalArgumentException(String.format("unknown record type 0x%02x", type));
    }
  }

  /** Cheap pre-check used when hunting for a record boundary: could this payload decode at all? */
  static boolean plausibleType(byte type) {
    return type >= HEADER && type <= RESET;
  }

  private static void requireExactly(String what, int bodyBytes, int expected) {
    if (bodyBytes != expected) {
      throw new IllegalArgumentException(what + " body is " + bodyBytes + " bytes, expected " + expected);
    }
  }

  private static void requireAtLeast(String what, int bodyBytes, int min) {
    if (bodyBytes < min) {
      throw new IllegalArgumentException(what + " body is " + bodyBytes + " bytes, expected at least " + min);
    }
  }
}
