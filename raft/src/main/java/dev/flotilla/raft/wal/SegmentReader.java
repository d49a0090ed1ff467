package dev.flotilla.raft.wal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads one segment's records in order from a byte offset, through a read-ahead buffer, so a scan
 * costs one read call per buffer rather than per record. It reports the first bad record and
 * stops; deciding whether that is a torn write or corruption is {@link WalRecovery}'s job.
 */
final class SegmentReader implements Closeable {

  private static final int READ_AHEAD_BYTES = 256 << 10;

  /** What {@link #next()} found. */
  sealed interface Result {}

  record Ok(long offset, long end, WalRecord record) implements Result {}

  record End(long offset) implements Result {}

  /**
   * A record that cannot be used. {@code end} is where it would end if its length field is right,
   * or -1 when the length itself is unusable.
   */
  record Bad(long offset, long end, Problem problem, String detail) implements Result {}

  enum Problem {
    /** Fewer than 8 bytes left for the frame header. */
    TRUNCATED_HEADER,
    /** The length field points past the end of the file. */
    TRUNCATED_BODY,
    /** The length field is 0 or larger than any record. */
    BAD_LENGTH,
    /** The payload does not match its checksum. */
    BAD_CRC,
    /** The checksum matches but the payload is not a record this format writes. */
    BAD_PAYLOAD
  }

  private final Path path;
  private final FileChannel channel;
  private final long size;
  private final RecordCodec codec = new RecordCodec();
  /** Bytes between position and limit are the file's bytes from {@link #offset} on. */
  private ByteBuffer buffer = ByteBuffer.allocate(READ_AHEAD_BYTES).limit(0);
  private long offset;
  private long filledTo;

  SegmentReader(Path path, long startOffset) throws IOException {
    this.path = path;
    this.channel = FileChannel.open(path, StandardOpenOption.READ);
    this.size = channel.size();
    this.offset = startOffset;
    this.filledTo = startOffset;
  }

  Path path() {
    return path;
  }

  long size() {
    return size;
  }

  Result next() throws IOException {
    long at = offset;
    if (at >= size) {
      return new End(at);
    }
    if (!fill(RecordCodec.FRAME_HEADER_BYTES)) {
      return new Bad(at, -1, Problem.TRUNCATED_HEADER,
          "frame header cut short: " + (size - at) + " of 8 bytes before end of file");
    }
    int pos = buffer.position();
    long length = Integer.toUnsignedLong(buffer.getInt(pos));
    int storedCrc = buffer.getInt(pos + 4);
    if (length < 1 || length > RecordCodec.MAX_PAYLOAD_BYTES) {
      return new Bad(at, -1, Problem.BAD_LENGTH,
          "record length " + length + " outside 1.." + RecordCodec.MAX_PAYLOAD_BYTES);
    }
    long end = at + RecordCodec.FRAME_HEADER_BYTES + length;
    if (end > size) {
      return new Bad(at, end, Problem.TRUNCATED_BODY,
          "record of " + length + " bytes runs past end of file (" + (size - at - 8) + " bytes present)");
    }
    if (!fill(RecordCodec.FRAME_HEADER_BYTES + (int) length)) {
      throw new IOException(path + " shrank while being read at offset " + at);
    }
    pos = buffer.position();
    ByteBuffer payload = buffer.slice(pos + RecordCodec.FRAME_HEADER_BYTES, (int) length);
    int actualCrc = codec.crcOf(payload);
    if (actualCrc != storedCrc) {
      return new Bad(at, end, Problem.BAD_CRC,
          String.format("crc32c mismatch in %d-byte record: stored %08x, computed %08x", length, storedCrc, actualCrc));
    }
    WalRecord record;
    try {
      record = RecordCodec.decode(payload);
    } catch (IllegalArgumentException e) {
      return new Bad(at, end, Problem.BAD_PAYLOAD, e.getMessage());
    }
    buffer.position(pos + RecordCodec.FRAME_HEADER_BYTES + (int) length);
    offset = end;
    return new Ok(at, end, record);
  }

  /** Makes at least {@code n} bytes from {@link #offset} available; false at end of file. */
  private boolean fill(int n) throws IOException {
    if (buffer.remaining() >= n) {
      return true;
    }
    if (buffer.capacity() < n) {
      ByteBuffer bigger = ByteBuffer.allocate(Math.max(n, buffer.capacity() * 2));
      bigger.put(buffer);
      buffer = bigger;
    } else {
      buffer.compact();
    }
    while (buffer.position() < n) {
      int read = channel.read(buffer, filledTo);
      if (read < 0) {
        break;
      }
      filledTo += read;
    }
    buffer.flip();
    return buffer.remaining() >= n;
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
