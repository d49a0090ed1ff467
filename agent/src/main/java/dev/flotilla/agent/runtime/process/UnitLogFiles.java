package dev.flotilla.agent.runtime.process;

import dev.flotilla.scheduler.api.UnitHost.JournalPage;
import dev.flotilla.scheduler.unit.UnitName;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The process runtime's per-unit output files ({@code <data-dir>/processes/logs/<unit>.log}, moved to
 * {@code .log.1} when large) read with a cursor, for {@code fctl journal} and {@code -f}: the
 * cursor is {@code <inode>:<byte offset>} just past the last whole line handed out, so a follower
 * gets every line once, also when the same text repeats. A line still being written waits for its
 * newline. {@link ProcessRuntime#journal} and {@link ProcessRuntime#journalAfter} read through it.
 */
final class UnitLogFiles {
  /** At most this much of a log per page, so that a follower far behind catches up in steps. */
  static final int MAX_PAGE_BYTES = 1 << 20;
  private static final String NO_FILE = "0";

  private final Path dir;

  UnitLogFiles(Path dir) {
    this.dir = dir;
  }

  /** The last {@code n} whole lines of the unit's log, and the cursor past them. */
  JournalPage tail(String unit, int n) {
    Path log = file(unit);
    try (FileChannel ch = FileChannel.open(log, StandardOpenOption.READ)) {
      String id = fileId(log);
      long size = ch.size();
      for (long window = 64 * 1024; ; window *= 4) {
        long from = Math.max(0, size - window);
        byte[] b = read(ch, from, size);
        int end = lastNewline(b) + 1;
        int start = 0;
        if (from > 0) {
          start = indexOf(b, (byte) '\n') + 1; // the window may begin inside a line: skip that part
        }
        List<String> lines = start <= end ? split(b, start, end) : List.of();
        if (from == 0 || (end > 0 && lines.size() >= n)) {
          return new JournalPage(lines.subList(Math.max(0, lines.size() - n), lines.size()), id + ":" + (from + end));
        }
      }
    } catch (NoSuchFileException e) {
      return new JournalPage(List.of(), NO_FILE + ":0");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + log + ": " + e.getMessage(), e);
    }
  }

  /** The whole lines written after {@code cursor} (at most {@link #MAX_PAGE_BYTES}), and the next cursor. */
  JournalPage after(String unit, String cursor) {
    int colon = cursor.indexOf(':');
    String id;
    long offset;
    try {
      id = cursor.substring(0, colon);
      offset = Long.parseLong(cursor.substring(colon + 1));
      Long.parseLong(id);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("journal cursor '" + cursor + "' was not made by this machine; "
          + "expected <inode>:<offset>");
    }
    if (offset < 0) {
      throw new IllegalArgumentException("journal cursor '" + cursor + "' has a negative offset");
    }
    Path log = file(unit);
    Path rotated = log.resolveSibling(log.getFileName() + ".1");
    try {
      String current = Files.exists(log) ? fileId(log) : NO_FILE;
      if (!current.equals(id) && Files.exists(rotated) && fileId(rotated).equals(id)
          && offset < Files.size(rotated)) {
        return page(rotated, id, offset); // the rest of a log moved aside since the last page
      }
      if (current.equals(NO_FILE)) {
        return new JournalPage(List.of(), cursor);
      }
      // another file (the log was moved aside and started again): from its beginning
      return page(log, current, current.equals(id) ? offset : 0);
    } catch (NoSuchFileException e) {
      return new JournalPage(List.of(), cursor);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + log + ": " + e.getMessage(), e);
    }
  }

  private static JournalPage page(Path log, String id, long offset) throws IOException {
    try (FileChannel ch = FileChannel.open(log, StandardOpenOption.READ)) {
      long size = ch.size();
      long from = offset <= size ? offset : 0; // shorter than the cursor: truncated, read it again
      byte[] b = read(ch, from, Math.min(size, from + MAX_PAGE_BYTES));
      int end = lastNewline(b) + 1;
      if (end == 0 && b.length == MAX_PAGE_BYTES) {
        end = b.length; // one line longer than a page: hand it out in pieces
      }
      return new JournalPage(split(b, 0, end), id + ":" + (from + end));
    }
  }

  private Path file(String unit) {
    if (!UnitName.isValid(unit)) {
      throw new IllegalArgumentException(unit + ": invalid unit name; expected a full name such as web.service");
    }
    return dir.resolve(unit + ".log");
  }

  private static String fileId(Path p) throws IOException {
    return Files.getAttribute(p, "unix:ino").toString();
  }

  private static byte[] read(FileChannel ch, long from, long to) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate((int) (to - from));
    while (buf.hasRemaining()) {
      if (ch.read(buf, from + buf.position()) < 0) {
        break; // truncated while reading
      }
    }
    byte[] b = new byte[buf.position()];
    buf.flip().get(b);
    return b;
  }

  private static int lastNewline(byte[] b) {
    for (int i = b.length - 1; i >= 0; i--) {
      if (b[i] == '\n') {
        return i;
      }
    }
    return -1;
  }

  private static int indexOf(byte[] b, byte c) {
    for (int i = 0; i < b.length; i++) {
      if (b[i] == c) {
        return i;
      }
    }
    return b.length;
  }

  /** The lines of b[start, end), where end is just past a newline (or start). */
  private static List<String> split(byte[] b, int start, int end) {
    List<String> lines = new ArrayList<>();
    int from = start;
    for (int i = start; i < end; i++) {
      if (b[i] == '\n') {
        lines.add(new String(b, from, i - from, StandardCharsets.UTF_8));
        from = i + 1;
      }
    }
    if (from < end) {
      lines.add(new String(b, from, end - from, StandardCharsets.UTF_8));
    }
    return lines;
  }
}
