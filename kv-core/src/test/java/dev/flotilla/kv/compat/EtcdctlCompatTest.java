package dev.flotilla.kv.compat;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real {@code etcdctl} (API v2) against real etcd and against a candidate (kvd, or a second etcd
 * as control): every command's stdout, stderr and exit code must agree once indexes, member ids
 * and URLs are normalised ({@link ClientText#normalise}).
 */
class EtcdctlCompatTest {
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(15);
  private static final Pattern REF = Pattern.compile("\\{(idx|mod:[^}]+)\\}");

  /**
   * One etcdctl invocation. {@code args} may hold {@code {idx}} (the target's current index) or
   * {@code {mod:/key}} (that key's modifiedIndex), read over HTTP just before the command runs.
   * A watching command gets {@code triggerKey} written while it runs; {@code untilLine}, when set,
   * means the command never ends by itself and is killed once a line of its stdout starts so.
   */
  record Cmd(String label, List<String> args, String triggerKey, String triggerValue, String untilLine) {
  }

  static Cmd cmd(String label, String... args) {
    return new Cmd(label, List.of(args), null, null, null);
  }

  static Cmd watching(String label, String key, String value, String... args) {
    return new Cmd(label, List.of(args), key, value, null);
  }

  static List<Cmd> script() {
    String fired = "echo fired action=$ETCD_WATCH_ACTION key=$ETCD_WATCH_KEY value=$ETCD_WATCH_VALUE"
        + " index=$ETCD_WATCH_MODIFIED_INDEX";
    return List.of(
        cmd("set", "set", "/ctl/a", "v1"),
        cmd("set-ttl", "set", "--ttl", "300", "/ctl/t", "temp"),
        cmd("get", "get", "/ctl/a"),
        cmd("get-missing", "get", "/ctl/missing"),
        cmd("get-dir", "get", "/ctl"),
        cmd("mk-exists", "mk", "/ctl/a", "v2"),
        cmd("mk", "mk", "/ctl/b", "v2"),
        cmd("mk-in-order", "mk", "--in-order", "/ctl/queue", "job1"),
        cmd("mkdir", "mkdir", "/ctl/d"),
        cmd("mkdir-exists", "mkdir", "/ctl/d"),
        cmd("setdir", "setdir", "/ctl/d2"),
        cmd("setdir-again", "setdir", "/ctl/d2"),
        cmd("update", "update", "/ctl/a", "v3"),
        cmd("update-missing", "update", "/ctl/zz", "v3"),
        cmd("updatedir", "updatedir", "--ttl", "300", "/ctl/d"),
        cmd("updatedir-missing", "updatedir", "--ttl", "300", "/ctl/nodir"),
        cmd("swap-with-value", "set", "--swap-with-value", "v3", "/ctl/a", "v4"),
        cmd("swap-with-value-fails", "set", "--swap-with-value", "v3", "/ctl/a", "v5"),
        cmd("swap-with-index", "set", "--swap-with-index", "{mod:/ctl/a}", "/ctl/a", "v5"),
        cmd("swap-with-stale-index-fails", "set", "--swap-with-index", "{idx}", "/ctl/b", "v6"),
        cmd("rm-with-value-fails", "rm", "--with-value", "nope", "/ctl/a"),
        cmd("rm-with-value", "rm", "--with-value", "v5", "/ctl/a"),
        cmd("rm-with-index", "rm", "--with-index", "{mod:/ctl/b}", "/ctl/b"),
        cmd("set-nested", "set", "/ctl/ne/x", "1"),
        cmd("ls-recursive-sorted", "ls", "--recursive", "--sort", "/ctl"),
        cmd("ls-slash-dirs", "ls", "-p", "--sort", "/ctl"),
        cmd("ls-root", "ls", "--sort", "/"),
        cmd("rmdir", "rmdir", "/ctl/d"),
        cmd("rmdir-not-empty", "rmdir", "/ctl/ne"),
        cmd("rm-dir-without-flags", "rm", "/ctl/ne"),
        cmd("rm-dir-flag", "rm", "--dir", "/ctl/d2"),
        cmd("rm-recursive", "rm", "--recursive", "/ctl/ne"),
        cmd("rm-missing", "rm", "/ctl/ne"),
        cmd("extended-set", "-o", "extended", "set", "/ctl/e", "ext"),
        cmd("extended-get", "-o", "extended", "get", "/ctl/e"),
        cmd("extended-get-missing", "-o", "extended", "get", "/ctl/nope"),
        cmd("json-get", "-o", "json", "get", "/ctl/e"),
        cmd("json-set", "-o", "json", "set", "/ctl/e", "ext2"),
        cmd("no-sync-get", "--no-sync", "get", "/ctl/e"),
        watching("watch", "/ctl/w", "seen", "watch", "--after-index", "{idx}", "/ctl/w"),
        watching("watch-recursive", "/ctl/wr/deep/k", "deep", "watch", "--recursive", "--after-index", "{idx}", "/ctl/wr"),
        // -o extended would print the watch's X-Etcd-Index, which races with the trigger write
        watching("json-watch", "/ctl/w", "again", "-o", "json", "watch", "--after-index", "{idx}", "/ctl/w"),
        // etcdctl's CLI parser eats the "--", after which exec-watch takes the LAST argument as the key
        new Cmd("exec-watch", List.of("exec-watch", "--after-index", "{idx}", "--", "sh", "-c", fired, "/ctl/x"),
            "/ctl/x", "boom", "fired "),
        cmd("cluster-health", "cluster-health"),
        cmd("member-list", "member", "list"),
        cmd("rm-all", "rm", "--recursive", "/ctl"));
  }

  /** What one command did on one target, normalised. */
  record Outcome(Cmd cmd, String command, int exitCode, String stdout, String stderr, boolean killed) {
    String describe() {
      return (cmd.untilLine() == null ? "exit " + exitCode + (killed ? " (killed: timed out)" : "") : "killed after its line")
          + "\n      stdout: " + stdout.replace("\n", "\\n") + "\n      stderr: " + stderr.replace("\n", "\\n");
    }
  }

  @ParameterizedTest(name = "etcd vs {0}")
  @ValueSource(strings = {"etcd", "kvd"})
  @Timeout(120)
  void etcdctlSeesTheSame(String candidateKind) throws Exception {
    EtcdProcess.requireEtcd();
    Path etcdctl = EtcdProcess.findOnPath("etcdctl");
    Tools.require(etcdctl != null,
        "etcdctl is missing: no `etcdctl` on PATH; install Debian's etcd-client to run this test");
    try (V2Target candidate = Targets.start(candidateKind, candidateKind.equals("etcd") ? "ctl-control" : "ctl-kvd");
        V2Target reference = EtcdProcess.start("ctl-reference")) {
      CompletableFuture<List<Outcome>> ref = CompletableFuture.supplyAsync(() -> runAll(etcdctl, reference));
      CompletableFuture<List<Outcome>> cand = CompletableFuture.supplyAsync(() -> runAll(etcdctl, candidate));
      String candName = candidateKind.equals("etcd") ? "etcd-b" : "kvd";
      List<String> diffs = compare("etcd", ref.join(), candName, cand.join());
      Path report = EtcdProcess.logDir().resolve("etcdctl-etcd-vs-" + candName + ".txt");
      Files.writeString(report, transcript(ref.join()) + "\n---- differences\n" + String.join("\n\n", diffs) + "\n");
      assertThat(diffs)
          .as("%d etcdctl commands differ between etcd and %s (transcript: %s):%n%s", diffs.size(), candName, report,
              String.join("\n\n", diffs))
          .isEmpty();
    }
  }

  private static List<Outcome> runAll(Path etcdctl, V2Target target) {
    URI url = target.clientUrl();
    long base = ClientText.currentIndex(url);
    Map<String, String> env = Map.of("ETCDCTL_API", "2");
    List<Outcome> out = new ArrayList<>();
    for (Cmd c : script()) {
      List<String> command = new ArrayList<>(List.of(etcdctl.toString(), "--endpoints", url.toString()));
      for (String a : c.args()) {
        command.add(resolve(a, url));
      }
      Runnable trigger = c.triggerKey() == null ? () -> { } : () -> ClientText.put(url, c.triggerKey(), c.triggerValue());
      ProcessRun run = ProcessRun.run(command, env, COMMAND_TIMEOUT, trigger,
          c.untilLine() == null ? null : text -> text.lines().anyMatch(l -> l.startsWith(c.untilLine())));
      String shown = String.join(" ", command.subList(3, command.size()));
      out.add(new Outcome(c, shown, run.exitCode(),
          ClientText.normalise(c.untilLine() == null ? run.stdout() : firstLine(run.stdout(), c.untilLine()), base, url),
          ClientText.normalise(run.stderr(), base, url), run.killed()));
    }
    return out;
  }

  private static String firstLine(String text, String prefix) {
    return text.lines().filter(l -> l.startsWith(prefix)).findFirst().orElse("(no line starting with '" + prefix
        + "' in: " + text + ")");
  }

  private static String resolve(String arg, URI url) {
    Matcher m = REF.matcher(arg);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      String ref = m.group(1);
      long v = ref.equals("idx") ? ClientText.currentIndex(url) : ClientText.modifiedIndex(url, ref.substring(4));
      m.appendReplacement(sb, Long.toString(v));
    }
    m.appendTail(sb);
    return sb.toString();
  }

  private static List<String> compare(String refName, List<Outcome> ref, String candName, List<Outcome> cand) {
    List<String> diffs = new ArrayList<>();
    for (int i = 0; i < ref.size(); i++) {
      Outcome r = ref.get(i);
      Outcome c = cand.get(i);
      boolean same = r.stdout().equals(c.stdout()) && r.stderr().equals(c.stderr())
          && (r.cmd().untilLine() != null || (r.exitCode() == c.exitCode() && r.killed() == c.killed()));
      if (!same) {
        diffs.add("#" + i + " " + r.cmd().label() + ": etcdctl " + r.command()
            + "\n    " + refName + ": " + r.describe() + "\n    " + candName + ": " + c.describe());
      }
    }
    return diffs;
  }

  private static String transcript(List<Outcome> outcomes) {
    StringBuilder sb = new StringBuilder("---- etcdctl against etcd, normalised\n");
    for (Outcome o : outcomes) {
      sb.append("$ etcdctl ").append(o.command()).append("\n    ").append(o.describe()).append('\n');
    }
    return sb.toString();
  }
}
