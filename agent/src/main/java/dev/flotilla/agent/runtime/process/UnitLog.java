package dev.flotilla.agent.runtime.process;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A unit's output file, {@code logs/<unit>.log}: its processes append to it directly (so output
 * does not go through, or depend on, the agent), and the runtime adds its own lines about the unit
 * ({@code Started}, {@code Main process exited}), as systemd's journal mixes both.
 */
final class UnitLog {

  /** Past this size the log is moved to {@code <unit>.log.1} when the unit is next started. */
  static final long ROTATE_BYTES = 16L * 1024 * 1024;

  private UnitLog() {}

  /** Appends one line; a log that cannot be written is not a reason to fail a unit. */
  static void append(Path log, String line) {
    try {
      Files.writeString(log, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.APPEND, StandardOpenOption.WRITE);
    } catch (IOException e) {
      // the failure is logged by the caller's slf4j line already; nothing more useful to do here
    }
  }

  /** Moves a large log aside; only while nothing of the unit runs (a writer would keep the old file). */
  static void rotateIfLarge(Path log) {
    try {
      if (Files.size(log) > ROTATE_BYTES) {
        Files.move(log, log.resolveSibling(log.getFileName() + ".1"), StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      // no log yet, or it cannot be moved: keep appending to it
    }
  }

  /** The last {@code n} lines, oldest first, read backwards from the end (logs may be large). */
}
