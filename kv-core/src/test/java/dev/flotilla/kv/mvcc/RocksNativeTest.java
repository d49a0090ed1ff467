package dev.flotilla.kv.mvcc;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A JVM that opens the store and dies by SIGKILL leaves nothing new in its temp dir. */
class RocksNativeTest {
  /** Loads the store's native library, says so, and waits to be killed. */
  public static final class LoadAndWait {
    public static void main(String[] args) throws Exception {
      Class.forName(MvccStore.class.getName());
      System.out.println("loaded");
      Thread.sleep(Long.MAX_VALUE);
    }
  }

  @TempDir Path tmp;

  @Test
  void killedProcessesShareOneCopyAndLeaveNoTempFile() throws Exception {
    killAfterLoad();
    killAfterLoad();

    List<Path> libraries;
    try (Stream<Path> files = Files.walk(tmp)) {
      libraries = files.filter(p -> p.getFileName().toString().startsWith("librocksdbjni"))
          .filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
          .toList();
    }
    assertThat(libraries).hasSize(1);
    assertThat(libraries.get(0).getParent().getParent().getFileName().toString())
        .startsWith("flotilla-native-");
    assertThat(libraries.get(0).getFileName().toString()).doesNotEndWith(".part");
  }

  private void killAfterLoad() throws IOException, InterruptedException {
    Process process = new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Djava.io.tmpdir=" + tmp,
            "-cp", System.getProperty("java.class.path"),
            LoadAndWait.class.getName())
        .redirectErrorStream(true)
        .start();
    try (BufferedReader out = new BufferedReader(
        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      assertThat(out.readLine()).isEqualTo("loaded");
    } finally {
      process.destroyForcibly();
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
  }
}
