package dev.flotilla.kv.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.kv.Kvd;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kvd's auth flags: etcd's names; values kvd cannot honour are refused before anything starts. */
class KvdAuthFlagsTest {
  @TempDir Path tmp;

  private String refusal(String... flags) {
    StringWriter err = new StringWriter();
    String[] args = new String[flags.length + 2];
    System.arraycopy(flags, 0, args, 0, flags.length);
    args[flags.length] = "--data-dir";
    args[flags.length + 1] = tmp.resolve("d").toString();
    int exit = Kvd.commandLine().setErr(new PrintWriter(err, true)).execute(args);
    assertThat(exit).as("exit of kvd %s: %s", String.join(" ", flags), err).isEqualTo(1);
    return err.toString().strip();
  }

  @Test
  void unsupportedTokenTypeAndBadValuesAreRefused() {
    assertThat(refusal("--auth-token", "jwt,pub-key=k.pub")).isEqualTo(
        "kvd: --auth-token 'jwt,pub-key=k.pub' is not supported: kvd has etcd's simple tokens only (--auth-token simple)");
    assertThat(refusal("--bcrypt-cost", "3")).isEqualTo("kvd: --bcrypt-cost must be between 4 and 31, got 3");
    assertThat(refusal("--auth-token-ttl", "0")).isEqualTo("kvd: --auth-token-ttl must be positive, got 0");
  }
}
