package dev.flotilla.kv.compat3;

import dev.flotilla.kv.compat.ClientRun;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs an {@link EtcdctlScript} against one server and records what etcdctl showed, normalised. */
final class EtcdctlSession3 {
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration UNTIL_TIMEOUT = Duration.ofSeconds(10);
  private static final Pattern VAR = Pattern.compile("\\$\\{(REV|R|L)([+-]?\\d*)\\}");
  private static final Pattern GRANTED = Pattern.compile("lease ([0-9a-f]+) granted with TTL");
  private static final Pattern GRANTED_JSON = Pattern.compile("\"ID\":(\\d+),\"TTL\":");
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One step's outcome on one server: raw and normalised. */
  record Outcome(EtcdctlScript.Step step, List<String> command, int exitCode, String stdout, String stderr,
      String rawStdout, String rawStderr) {
    String shown() {
      return "exit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
    }
  }

  private final Path etcdctl;
  private final V3Server server;
  private final Normaliser3 norm;
  private final Map<String, ClientRun> background = new HashMap<>();

  EtcdctlSession3(Path etcdctl, V3Server server) {
    this.etcdctl = etcdctl;
    this.server = server;
    this.norm = new Normaliser3(server);
  }

  Normaliser3 normaliser() {
    return norm;
  }

  List<Outcome> run(EtcdctlScript script) throws IOException {
    setUp();
    List<Outcome> out = new ArrayList<>();
    try {
      for (EtcdctlScript.Step s : script.steps()) {
        out.add(step(s));
      }
    } finally {
      background.values().forEach(ClientRun::close);
    }
    return out;
  }

  /** Learns the ids and the start revision that the normaliser takes out. */
  private void setUp() throws IOException {
    ClientRun.Result members = ctl(List.of("member", "list", "-w", "json"), null);
    if (members.exitCode() != 0) {
      throw new IllegalStateException(server + ": etcdctl member list failed: " + members.stderr());
    }
    JsonNode m = JSON.readTree(members.stdout());
    norm.cluster(m.path("header").path("cluster_id").bigIntegerValue().longValue());
    norm.member(m.path("header").path("member_id").bigIntegerValue().longValue());
    ClientRun.Result probe = ctl(List.of("get", "compat3-probe", "-w", "json"), null);
    JsonNode p = JSON.readTree(probe.stdout());
    norm.baseRevision(p.path("header").path("revision").asLong(0));
  }

  private Outcome step(EtcdctlScript.Step s) {
    List<String> args = s.args().stream().map(this::substitute).toList();
    String stdin = s.stdin() == null ? null : substitute(s.stdin());
    ClientRun.Result r;
    switch (s.kind()) {
      case BACKGROUND -> {
        background.put(s.name(), ClientRun.start(command(args), env(), stdin));
        r = new ClientRun.Result(0, "", "", false);
      }
      case JOIN -> {
        ClientRun bg = background.remove(s.name());
        if (bg == null) {
          throw new IllegalStateException("line " + s.line() + ": no background command " + s.name());
        }
        int want = s.lines();
        r = bg.finish(COMMAND_TIMEOUT, text -> text.chars().filter(c -> c == '\n').count() >= want);
        bg.close();
        // killed on purpose once it printed enough: what counts is the output
        r = new ClientRun.Result(r.killed() ? 0 : r.exitCode(), r.stdout(), r.stderr(), r.killed());
      }
      case UNTIL -> {
        Pattern until = Pattern.compile(s.until(), Pattern.DOTALL);
        long deadline = System.nanoTime() + UNTIL_TIMEOUT.toNanos();
        do {
          r = ctl(args, stdin);
          if (until.matcher(r.stdout()).matches()) {
            break;
          }
          pause();
        } while (System.nanoTime() < deadline);
      }
      default -> r = ctl(args, stdin);
    }
    if (args.size() >= 2 && args.get(0).equals("lease") && args.get(1).equals("grant")) {
      Matcher g = GRANTED.matcher(r.stdout());
      while (g.find()) {
        norm.lease(Long.parseUnsignedLong(g.group(1), 16));
      }
      Matcher j = GRANTED_JSON.matcher(r.stdout());
      while (j.find()) {
        norm.lease(Long.parseLong(j.group(1)));
      }
    }
    List<String> shownArgs = s.kind() == EtcdctlScript.Kind.JOIN ? List.of("join", s.name()) : args;
    return new Outcome(s, shownArgs, r.exitCode(), norm.normalise(r.stdout()), norm.normalise(r.stderr()),
        r.stdout(), r.stderr());
  }

  private static void pause() {
    try {
      Thread.sleep(100); // poll interval of an "until" step, which re-checks its condition
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private String substitute(String s) {
    Matcher m = VAR.matcher(s);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String v;
      long off = m.group(2).isEmpty() ? 0 : Long.parseLong(m.group(2));
      if (m.group(1).equals("R")) {
        v = Long.toString(norm.baseRevision() + off);
      } else if (m.group(1).equals("REV")) {
        v = Long.toString(currentRevision() + off);
      } else {
        v = Long.toHexString(norm.leaseId((int) off));
      }
      m.appendReplacement(out, Matcher.quoteReplacement(v));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** The server's revision now, read with a get (its header). */
  private long currentRevision() {
    ClientRun.Result probe = ctl(List.of("get", "compat3-probe", "-w", "json"), null);
    try {
      return JSON.readTree(probe.stdout()).path("header").path("revision").asLong(0);
    } catch (IOException e) {
      throw new IllegalStateException(server + ": cannot read the revision from " + probe, e);
    }
  }

  private ClientRun.Result ctl(List<String> args, String stdin) {
    return ClientRun.run(command(args), env(), stdin, COMMAND_TIMEOUT);
  }

  private List<String> command(List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(etcdctl.toString());
    cmd.add("--endpoints=" + server.clientUrl());
    cmd.addAll(args);
    return cmd;
  }

  private static Map<String, String> env() {
    return Map.of("ETCDCTL_API", "3");
  }
}
