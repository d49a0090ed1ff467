package dev.flotilla.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.cli.FleetFixture.Run;
import dev.flotilla.kv.client.JetcdStoreClient;
import dev.flotilla.scheduler.fleet.Resources;
import dev.flotilla.scheduler.registry.MachineRecord;
import dev.flotilla.scheduler.registry.store.StoreRegistry;
import dev.flotilla.scheduler.unit.UnitFile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * fctl end to end against a real fleetd (embedded store, engine, agent with the process runtime,
 * API on a Unix socket and HTTP) shared by the class: every command on real units, whose processes
 * are children of this JVM, and bad input, each a one-line message with its exit status.
 */
class FctlAgainstFleetdTest {
  /** Counts, so that a test can tell each line from the others: "hi 1", "hi 2", ... */
  static final String COUNTER = "[Unit]\nDescription=Counts\n\n[Service]\n"
      + "ExecStart=/bin/sh -c 'i=0; while true; do i=$$((i+1)); echo \"hi $$i\"; sleep 0.2; done'\n";
  static final String SHORT = "5a1e0c0f.../127.0.0.1";
  private static final Pattern HI = Pattern.compile("^hi (\\d+)$", Pattern.MULTILINE);
  private static final Pattern MAIN_PID = Pattern.compile("Main PID: (\\d+)");

  @TempDir
  static Path dir;

  static RealFleetd fleetd;

  @BeforeAll
  static void start() throws Exception {
    fleetd = new RealFleetd(dir);
    // the counter runs for the whole class: status and journal read it
    Run r = fleetd.fctl("start", write("counter.service", COUNTER).toString());
    assertThat(r.exit()).as(r.err()).isZero();
  }

  @AfterAll
  static void stop() {
    RealFleetd.closeAndAwaitUnitsGone(fleetd);
  }

  static Path write(String name, String text) throws IOException {
    Path p = dir.resolve("units").resolve(name);
    Files.createDirectories(p.getParent());
    Files.writeString(p, text);
    return p;
  }

  /** A failure: exit status, one line on stderr, no stack trace, nothing on stdout. */
  static void assertOneLine(Run r, int exit, String err) {
    assertThat(r.exit()).as(r.err()).isEqualTo(exit);
    assertThat(r.err()).isEqualTo(err + "\n");
    assertThat(r.out()).isEmpty();
  }

  static List<Integer> counts(String out) {
    List<Integer> n = new ArrayList<>();
    Matcher m = HI.matcher(out);
    while (m.find()) {
      n.add(Integer.parseInt(m.group(1)));
    }
    return n;
  }

  static void assertConsecutive(List<Integer> n) {
    for (int i = 1; i < n.size(); i++) {
      assertThat(n.get(i)).as("line %d of %s: every line once, in order", i, n).isEqualTo(n.get(i - 1) + 1);
    }
  }

  static long mainPid(String status) {
    Matcher m = MAIN_PID.matcher(status);
    assertThat(m.find()).as(status).isTrue();
    return Long.parseLong(m.group(1));
  }

  /** Rows of a table printed with --no-legend, split at tabs. */
  static List<List<String>> rows(String out) {
    return out.lines().map(l -> Arrays.asList(l.split("\t+"))).toList();
  }

  @Test
  void listMachinesShowsThisFleetd() {
    Run r = fleetd.fctl("list-machines");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).isEqualTo("MACHINE\t\tIP\t\tMETADATA\n5a1e0c0f...\t127.0.0.1\trole=test\n");
    Run full = fleetd.fctlHttp("list-machines", "--full", "--no-legend");
    assertThat(full.out()).isEqualTo(RealFleetd.MACHINE + "\t127.0.0.1\trole=test\n");
  }

  @Test
  void aStartedLocalFileRunsAsARealProcessAndIsListed() throws Exception {
    String hash = UnitFile.parse(COUNTER).hash().shortHex();
    Run units = fleetd.fctl("list-units", "--no-legend");
    assertThat(rows(units.out())).contains(List.of("counter.service", SHORT, "active", "running"));
    Run files = fleetd.fctlHttp("list-unit-files", "--no-legend");
    assertThat(rows(files.out())).contains(List.of("counter.service", hash, "launched", "launched", SHORT));

    Run status = fleetd.fctl("status", "counter");
    assertThat(status.exit()).as(status.err()).isZero();
    assertThat(status.out()).startsWith("● counter.service\n").contains("Active: active (running)");
    assertThat(ProcessHandle.of(mainPid(status.out())).map(ProcessHandle::isAlive)).contains(true);
    assertThat(fleetd.fctlHttp("status", "count*").out()).startsWith("● counter.service\n");

    // already launched: nothing to do, nothing said (fleetctl)
    Run again = fleetd.fctl("start", "counter.service");
    assertThat(again.exit()).isZero();
    assertThat(again.out()).isEmpty();
  }

  @Test
  void journalPrintsTheLastLinesOfTheUnitsOutput() {
    RealFleetd.await(() -> counts(fleetd.fctl("journal", "--lines", "20", "counter").out()).size() >= 12, 20,
        "the counter has written 12 lines");
    Run three = fleetd.fctl("journal", "--lines", "3", "counter.service");
    assertThat(three.exit()).as(three.err()).isZero();
    assertThat(three.out().lines()).hasSize(3);
    assertThat(counts(three.out())).hasSize(3);
    assertConsecutive(counts(three.out()));

    Run ten = fleetd.fctlHttp("journal", "counter");
    assertThat(counts(ten.out())).hasSize(10);
    assertConsecutive(counts(ten.out()));
    assertThat(counts(ten.out()).get(9)).isGreaterThanOrEqualTo(counts(three.out()).get(2));

    Run none = fleetd.fctl("journal", "--lines", "0", "counter");
    assertThat(none.exit()).isZero();
    assertThat(none.out()).isEmpty();
  }

  @Test
  void journalFollowPrintsEachNewLineOnceUntilInterrupted() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    AtomicInteger exit = new AtomicInteger(-1);
    Thread follower = new Thread(() -> exit.set(fleetd.fctlTo(out, err, "journal", "-f", "--lines", "1", "counter")));
    follower.start();
    try {
      RealFleetd.await(() -> counts(out.toString(StandardCharsets.UTF_8)).size() >= 5, 20,
          "four lines followed after the first");
    } finally {
      follower.interrupt();
      follower.join(10_000);
    }
    assertThat(follower.isAlive()).as("fctl journal -f ended when interrupted").isFalse();
    assertThat(exit.get()).as(err.toString(StandardCharsets.UTF_8)).isZero();
    assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
    List<Integer> n = counts(out.toString(StandardCharsets.UTF_8));
    assertConsecutive(n);
  }

  /** A pipe whose reader went away ({@code fctl journal -f | head -3}): writes fail once it is closed. */
  static final class ClosingSink extends OutputStream {
    final ByteArrayOutputStream got = new ByteArrayOutputStream();
    volatile boolean closed;

    @Override
    public synchronized void write(int b) throws IOException {
      if (closed) {
        throw new IOException("Broken pipe");
      }
      got.write(b);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
      if (closed) {
        throw new IOException("Broken pipe");
      }
      got.write(b, off, len);
    }

    synchronized String text() {
      return got.toString(StandardCharsets.UTF_8);
    }
  }

  @Test
  void journalFollowEndsWhenItsOutputIsClosed() throws Exception {
    ClosingSink out = new ClosingSink();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    AtomicInteger exit = new AtomicInteger(-1);
    Thread follower = new Thread(() -> exit.set(fleetd.fctlTo(out, err, "journal", "--follow", "counter")));
    follower.start();
    try {
      // the last 10 lines, then at least two new ones
      RealFleetd.await(() -> counts(out.text()).size() >= 12, 20, "two lines followed after the last ten");
      out.closed = true;
      follower.join(10_000);
      assertThat(follower.isAlive()).as("fctl journal -f ended when its output was closed").isFalse();
    } finally {
      follower.interrupt();
      follower.join(10_000);
    }
    assertThat(exit.get()).as(err.toString(StandardCharsets.UTF_8)).isZero();
    assertConsecutive(counts(out.text()));
  }

  @Test
  void templateInstancesRunAndGoAway() throws Exception {
    write("web@.service", "[Unit]\nDescription=Web %i\n\n[Service]\n"
        + "ExecStart=/bin/sh -c 'echo instance %i; exec sleep 1000'\n");
    Run start = fleetd.fctl("start", dir.resolve("units/web@1.service").toString(),
        dir.resolve("units/web@2.service").toString());
    assertThat(start.exit()).as(start.err()).isZero();
    assertThat(start.out()).contains("Unit web@1.service launched on " + SHORT + "\n",
        "Unit web@2.service launched on " + SHORT + "\n");
    // made from the template next to the path, which is not submitted itself (fleetctl)
    assertThat(rows(fleetd.fctl("list-unit-files", "--no-legend", "--fields", "unit,dstate").out()))
        .contains(List.of("web@1.service", "launched"), List.of("web@2.service", "launched"))
        .noneMatch(r -> r.get(0).equals("web@.service"));

    Run status = fleetd.fctl("status", "web@1", "web@2.service");
    assertThat(status.exit()).as(status.err()).isZero();
    String[] blocks = status.out().split("\n\n(?=● )");
    assertThat(blocks).hasSize(2);
    assertThat(blocks[0]).startsWith("● web@1.service\n");
    assertThat(blocks[1]).startsWith("● web@2.service\n");
    long pid1 = mainPid(blocks[0]);
    long pid2 = mainPid(blocks[1]);
    RealFleetd.await(() -> fleetd.fctl("journal", "web@2").out().contains("instance 2\n"), 10,
        "web@2's output in its journal");

    Run stop = fleetd.fctl("stop", "web@*");
    assertThat(stop.exit()).as(stop.err()).isZero();
    assertThat(stop.out()).isEqualTo("Unit web@1.service loaded on " + SHORT + "\nUnit web@2.service loaded on "
        + SHORT + "\n");
    RealFleetd.await(() -> ProcessHandle.of(pid1).isEmpty() && ProcessHandle.of(pid2).isEmpty(), 10,
        "the instances' processes gone after stop");
    assertThat(fleetd.fctl("status", "web@1").out()).contains("Active: inactive");

    Run destroy = fleetd.fctl("destroy", "web@*");
    assertThat(destroy.exit()).as(destroy.err()).isZero();
    assertThat(destroy.out()).isEqualTo("Destroyed web@1.service\nDestroyed web@2.service\n");
    assertThat(fleetd.fctl("list-unit-files").out()).doesNotContain("web@");
  }

  @Test
  void submitLoadCatWhyStartStopUnloadDestroy() throws Exception {
    String text = "[Unit]\nDescription=Idle\n\n[Service]\nExecStart=/bin/sleep 1000\n";
    Path idle = write("idle.service", text);
    Run submit = fleetd.fctl("submit", idle.toString());
    assertThat(submit.exit()).as(submit.err()).isZero();
    assertThat(submit.out()).isEqualTo("Unit idle.service inactive\n");
    assertThat(fleetd.fctl("cat", "idle").out()).isEqualTo(UnitFile.parse(text).serialize());
    assertThat(fleetd.fctl("why", "idle").out())
        .isEqualTo("idle.service is not placed: its desired state is inactive; start it with 'fctl start idle.service'\n");
    assertOneLine(fleetd.fctl("status", "idle"), 1, "fctl: unit idle.service is not running on any machine "
        + "(desired inactive, current inactive); see 'fctl why idle.service'");
    assertOneLine(fleetd.fctl("journal", "idle"), 1, "fctl: unit idle.service is not running on any machine "
        + "(desired inactive, current inactive); see 'fctl why idle.service'");

    Run load = fleetd.fctl("load", "idle");
    assertThat(load.exit()).as(load.err()).isZero();
    assertThat(load.out()).isEqualTo("Unit idle.service loaded on " + SHORT + "\n");
    assertThat(fleetd.fctl("why", "idle").out())
        .isEqualTo("idle.service is placed on " + SHORT + " (desired loaded, current loaded)\n");

    Run start = fleetd.fctlHttp("start", "idle");
    assertThat(start.out()).isEqualTo("Unit idle.service launched on " + SHORT + "\n");
    long pid = mainPid(fleetd.fctl("status", "idle").out());
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).contains(true);

    assertThat(fleetd.fctl("stop", "idle").out()).isEqualTo("Unit idle.service loaded on " + SHORT + "\n");
    RealFleetd.await(() -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).isEmpty()
        || !ProcessHandle.of(pid).get().isAlive(), 10, "idle.service's process gone after stop");
    assertThat(fleetd.fctl("unload", "idle").out()).isEqualTo("Unit idle.service inactive\n");
    RealFleetd.await(() -> rows(fleetd.fctl("list-units", "--no-legend").out()).stream()
        .noneMatch(r -> r.get(0).equals("idle.service")), 10, "idle.service's state withdrawn by its agent");

    assertThat(fleetd.fctl("destroy", "idle").out()).isEqualTo("Destroyed idle.service\n");
    assertOneLine(fleetd.fctl("cat", "idle"), 1,
        "fctl: unit idle.service does not exist; see the units with 'fctl list-unit-files'");
  }

  @Test
  void badInputIsOneLineWithItsExitStatus() throws IOException {
    Path bad = write("bad.service", "[Unit]\nDescription=Bad\n[Service\nExecStart=/bin/true\n");
    Run malformed = fleetd.fctl("start", bad.toString());
    assertThat(malformed.exit()).isEqualTo(1);
    assertThat(malformed.err()).startsWith("fctl: invalid unit file " + bad + ": line 3: ").hasLineCount(1);

    assertOneLine(fleetd.fctl("journal", "--bogus", "counter"), 2,
        "fctl: Unknown option: '--bogus'; see 'fctl journal --help'");
    assertOneLine(fleetd.fctl("status", "-x", "counter"), 2, "fctl: Unknown option: '-x'; see 'fctl status --help'");
    assertOneLine(fleetd.fctl("journal", "--lines", "-1", "counter"), 2,
        "fctl: --lines must be between 0 and 10000, got -1; see 'fctl journal --help'");
    assertOneLine(fleetd.fctl("journal", "counter", "idle"), 2,
        "fctl: Unmatched argument at index 4: 'idle'; see 'fctl journal --help'");

    String unknown = "fctl: unit nope.service does not exist; see the units with 'fctl list-unit-files'";
    for (String cmd : List.of("status", "journal", "cat", "why", "stop", "unload", "destroy")) {
      assertOneLine(fleetd.fctl(cmd, "nope"), 1, unknown);
    }
    assertOneLine(fleetd.fctl("status", "--machine", "ffff", "counter"), 1,
        "fctl: no machine with ID 'ffff' in the cluster; see 'fctl list-machines'");
    assertThat(fleetd.fctl("list-unit-files").out()).doesNotContain("bad.service", "nope");
  }

  @Test
  void anUnreachableEndpointIsNamed() throws IOException {
    String url = "http://127.0.0.1:" + RealFleetd.freePort();
    for (String cmd : List.of("status", "journal")) {
      Run r = FleetFixture.run(new String[] {"--endpoint", url, cmd, "counter"}, Map.of());
      assertOneLine(r, 1, "fctl: cannot reach fleetd at " + url + ": connection refused; is fleetd running there? "
          + "Point fctl at it with --endpoint or FLEETCTL_ENDPOINT");
    }
    String socket = "unix://" + dir.resolve("nobody.sock");
    Run unix = FleetFixture.run(new String[] {"journal", "-f", "counter"}, Map.of("FLEETCTL_ENDPOINT", socket));
    assertThat(unix.exit()).isEqualTo(1);
    assertThat(unix.err()).startsWith("fctl: cannot reach fleetd at " + socket + ": ").hasLineCount(1);
  }

  @Test
  void aMachineWhoseAgentDoesNotAnswerIsNamed() throws Exception {
    String gone = "0deadbeef0000000000000000000000a";
    String agentUrl = "http://127.0.0.1:" + RealFleetd.freePort();
    try (JetcdStoreClient store = JetcdStoreClient.connect(List.of(URI.create(fleetd.storeUrl)), Duration.ofSeconds(5))) {
      StoreRegistry registry = new StoreRegistry(store);
      registry.publish(new MachineRecord(gone, "127.0.0.2", Map.of(), Resources.NONE, "test", agentUrl), 30);
      try {
        Path pinned = write("pinned.service", "[Service]\nExecStart=/bin/sleep 1000\n\n[X-Fleet]\nMachineID=" + gone + "\n");
        Run start = fleetd.fctl("start", "--no-block", pinned.toString());
        assertThat(start.exit()).as(start.err()).isZero();
        RealFleetd.await(() -> fleetd.fctl("why", "pinned").out().contains("placed on 0deadbee..."), 10,
            "pinned.service placed on the machine without an agent");
        for (String cmd : List.of("status", "journal")) {
          Run r = fleetd.fctl(cmd, "pinned");
          assertThat(r.exit()).isEqualTo(1);
          assertThat(r.err()).startsWith("fctl: cannot read the " + cmd + " of pinned.service: machine " + gone
              + "'s agent at " + agentUrl + " did not answer").hasLineCount(1);
        }
        assertThat(fleetd.fctl("destroy", "pinned").exit()).isZero();
      } finally {
        registry.withdraw(gone);
      }
    }
  }
}
