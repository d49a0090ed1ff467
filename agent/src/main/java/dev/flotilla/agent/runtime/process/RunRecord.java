package dev.flotilla.agent.runtime.process;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Optional;
import java.util.Properties;

/**
 * What survives the agent in {@code run/}: a process of a unit ({@code <unit>.pid} for the main
 * process, {@code <unit>.control} for a command such as ExecStartPre) with its start time, so that a
 * PID reused by another program is not taken for it; or {@code <unit>.exited} for a oneshot that
 * remains active. {@code since} is when the unit entered its active state.
 */
record RunRecord(long pid, long startMillis, Instant since) {

  static RunRecord of(ProcessHandle process, Instant since) {
    return new RunRecord(process.pid(), startMillis(process), since);
  }

  /** The process this record names, if it still runs (same PID and start time). */
  Optional<ProcessHandle> live() {
    return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
        .filter(h -> startMillis == 0 || startMillis(h) == 0 || startMillis(h) == startMillis);
  }

  void write(Path file) throws IOException {
    String text = "pid=" + pid + "\nstart=" + startMillis + "\nsince=" + since.toEpochMilli() + "\n";
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  static Optional<RunRecord> read(Path file) {
    try {
      Properties p = new Properties();
      p.load(new StringReader(Files.readString(file, StandardCharsets.UTF_8)));
      return Optional.of(new RunRecord(Long.parseLong(p.getProperty("pid", "0")),
          Long.parseLong(p.getProperty("start", "0")),
          Instant.ofEpochMilli(Long.parseLong(p.getProperty("since", "0")))));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException | RuntimeException e) {
      return Optional.empty(); // a torn or foreign file: nothing to adopt
    }
  }

  private static long startMillis(ProcessHandle h) {
    return h.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
  }
}
