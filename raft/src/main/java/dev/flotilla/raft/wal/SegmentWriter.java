package dev.flotilla.raft.wal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;

/**
 * Appends records to the active segment. Records are encoded into one direct buffer and reach the
 * file only on {@link #flush()} or {@link #sync()}, so a group commit of many records costs one
 * write call and one fdatasync, and no syscall per record.
 */
final class SegmentWriter implements Closeable {

  private final SegmentFile segment;
  private final FileChannel channel;
  private final RecordCodec codec = new RecordCodec();
  private ByteBuffer pending;
  /** Bytes already handed to the file. */
  private long written;
  /** Whether some written bytes have not been fsynced yet. */
  private boolean unsynced;

  private SegmentWriter(SegmentFile segment, FileChannel channel, long written, int bufferBytes) {
    this.segment = segment;
    this.channel = channel;
    this.written = written;
    this.pending = ByteBuffer.allocateDirect(bufferBytes);
  }

  /** Starts a freshly created, empty segment with its header record (buffered like any other). */
  static SegmentWriter start(SegmentFile segment, int bufferBytes) throws IOException {
    SegmentWriter writer = new SegmentWriter(segment, openForWrite(segment), 0, bufferBytes);
    writer.append(SegmentHeader.of(segment));
    return writer;
  }

  /** Continues a recovered segment whose valid records end at {@code size}. */
  static SegmentWriter resume(SegmentFile segment, long size, int bufferBytes) throws IOException {
    return new SegmentWriter(segment, openForWrite(segment), size, bufferBytes);
  }

  private static FileChannel openForWrite(SegmentFile segment) throws IOException {
    return FileChannel.open(segment.path(), StandardOpenOption.WRITE);
  }

  SegmentFile segment() {
    return segment;
  }

  /** Whether the file reaches past what was written: zeros written ahead, not grown by appends. */
  boolean preallocated() throws IOException {
    return channel.size() > size();
  }

  /** Logical size: bytes written plus bytes still buffered. */
  long size() {
    return written + pending.position();
  }

  /** Buffers a record and returns the file offset it will occupy. */
  long append(WalRecord record) throws IOException {
    int frameBytes = RecordCodec.frameBytes(record);
    if (pending.remaining() < frameBytes) {
      flush();
      if (pending.capacity() < frameBytes) {
        // A record larger than the buffer: grow rather than split, records are written whole.
        pending = ByteBuffer.allocateDirect(Integer.highestOneBit(frameBytes - 1) << 1);
      }
    }
    long offset = size();
    codec.encode(record, pending);
    return offset;
  }

  /** Hands buffered bytes to the file without forcing them to disk. */
  void flush() throws IOException {
    if (pending.position() == 0) {
      return;
    }
    pending.flip();
    while (pending.hasRemaining()) {
      written += channel.write(pending, written);
    }
    pending.clear();
    unsynced = true;
  }

  /** Writes and fdatasyncs everything appended so far. */
  void sync() throws IOException {
    flush();
    if (unsynced) {
      // force(false) is fdatasync: it still persists the file size, which appends past the end
      // of the file need (writes into a preallocated segment do not).
      channel.force(false);
      unsynced = false;
    }
  }

  /**
   * Syncs everything appended and cuts off what lies past it (preallocated zeros the log did not
   * reach): recovery forgives an unfinished tail only in the last segment, so a segment that is
   * left for a newer one must end at its last record.
   */
  void seal() throws IOException {
    flush();
    if (channel.size() > written) {
      channel.truncate(written);
      unsynced = true;
    }
    sync();
  }

  /** Closes without syncing; callers sync first when the data must survive. */
  @Override
  public void close() throws IOException {
    channel.close();
  }
}
