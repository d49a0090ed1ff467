package dev.flotilla.raft.wal;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The WAL holds a record it cannot trust anywhere a torn final write cannot explain. The WAL does
 * not open: an operator has to restore the member from a peer or a backup, because skipping the
 * record could lose acknowledged writes or a vote.
 */
public final class WalCorruptionException extends IOException {

  private final Path file;
  private final long offset;

  public WalCorruptionException(Path file, long offset, String problem) {
    super("WAL corruption in " + file + " at offset " + offset + ": " + problem);
    this.file = file;
    this.offset = offset;
  }

  public Path file() {
    return file;
  }

  public long offset() {
    return offset;
  }
}
