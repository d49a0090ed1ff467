package dev.flotilla.agent.runtime.process;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The host's processes as Linux's {@code /proc/<pid>/stat} shows them: parent, process group,
 * session, start time, and whether each is a zombie (a zombie has ended; in a container whose PID 1
 * does not reap, killed processes stay zombies and must not count as running).
 */
final class ProcTable {

  record Entry(long pid, char state, long ppid, long pgrp, long session, long startTicks) {
    boolean zombie() {
      return state == 'Z' || state == 'X';
    }
  }

  private static final Path PROC = Path.of("/proc");

  private ProcTable() {}

  static boolean available() {
    return Files.isReadable(PROC.resolve("self/stat"));
  }

  /** Every process now, by PID (processes that end during the scan are left out). */
  static Map<Long, Entry> scan() {
    Map<Long, Entry> out = new HashMap<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(PROC)) {
      for (Path dir : dirs) {
        String name = dir.getFileName().toString();
        if (name.isEmpty() || !Character.isDigit(name.charAt(0))) {
          continue;
        }
        read(Long.parseLong(name)).ifPresent(e -> out.put(e.pid(), e));
      }
    } catch (IOException e) {
      // /proc unreadable: callers fall back to ProcessHandle
    }
    return out;
  }

  static Optional<Entry> read(long pid) {
    String stat;
    try {
      stat = Files.readString(PROC.resolve(pid + "/stat"));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
    // "pid (comm) S ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    //  cutime cstime priority nice threads itrealvalue starttime ...": comm may hold ')' and blanks
    int close = stat.lastIndexOf(')');
    if (close < 0) {
      return Optional.empty();
    }
    String[] f = stat.substring(close + 2).split(" ");
    if (f.length < 20) {
      return Optional.empty();
    }
    try {
      return Optional.of(new Entry(pid, f[0].charAt(0), Long.parseLong(f[1]), Long.parseLong(f[2]),
          Long.parseLong(f[3]), Long.parseLong(f[19])));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }
}
