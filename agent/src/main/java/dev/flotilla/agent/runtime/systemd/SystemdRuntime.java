package dev.flotilla.agent.runtime.systemd;

import dev.flotilla.agent.runtime.RuntimeFailure;
import dev.flotilla.agent.runtime.StateChanges;
import dev.flotilla.agent.runtime.UnitRuntime;
import dev.flotilla.agent.runtime.UnitStatus;
import dev.flotilla.scheduler.api.UnitHost.JournalPage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives the host's systemd through {@code systemctl} and {@code journalctl} shell-outs, the way
 * fleet's agent did over D-Bus: unit files in a runtime unit directory ({@code /run/systemd/system},
 * gone at reboot), one {@code daemon-reload} per batch of changed files (none for a batch of new
 * files that systemd, asked, already loaded from those files: see {@link #seesOwnFiles}), non-blocking start and
 * stop jobs whose outcome the agent learns from systemd's journal ({@link #changes}: one
 * long-lived {@code journalctl -f}, see {@link JournalFollower}) and reads in batches
 * ({@link #states}), and one {@code systemctl} process per kind of action and chunk of
 * {@link Options#maxUnitsPerCommand} units, never one per unit; a batch of new units is started
 * through one anchor target of ours, one D-Bus call to PID 1 for all of them.
 *
 * <p>Each file it writes starts with {@link #MARKER}, so that {@link #installed()} tells its own
 * files from any other unit in the directory, also after an agent restart; units it did not
 * install are never stopped or removed by {@link #unload}.
 */
public final class SystemdRuntime implements UnitRuntime {
  private static final Logger log = LoggerFactory.getLogger(SystemdRuntime.class);

  /** The first line of every unit file this runtime writes. */
  public static final String MARKER = "# installed by flotilla fleetd; do not edit";

  /** What our journal cursors start with: a journalctl cursor follows (none: the unit's start). */
  static final String CURSOR_PREFIX = "journal:";
  /** journalctl's cursors: {@code s=…;i=…;b=…;m=…;t=…;x=…} (hex fields); nothing else is passed on. */
  private static final String SHOWN_CURSOR = "-- cursor: ";
  private static final Pattern JOURNAL_CURSOR = Pattern.compile("([a-z]=[0-9a-f]+(;[a-z]=[0-9a-f]+)*)?");
  private static final List<String> LIST_UNITS = List.of("systemctl", "list-units", "--all", "--plain", "--no-legend",
      "--no-pager");
  /** The column gaps of {@code list-units} (String.split("\\s+") compiled it again for every line). */
  private static final Pattern COLUMN_GAP = Pattern.compile("\\s+");

  /**
   * From this many new units to start on, they are started through one anchor target (see
   * {@link #startThroughAnchor}): three systemctl processes instead of one, but one D-Bus call to
   * PID 1 instead of three per unit.
   */
  static final int ANCHOR_MIN_UNITS = 8;
  /** Anchor targets' names: {@code flotilla-start-<this process>-<n>.target}, never one systemd has seen. */
  private static final String ANCHOR_PREFIX = "flotilla-start-";
  private static final String ANCHOR_PROCESS = Long.toString(ProcessHandle.current().pid(), 36) + "-"
      + Long.toString(System.currentTimeMillis(), 36);
  private static final java.util.concurrent.atomic.AtomicLong ANCHORS = new java.util.concurrent.atomic.AtomicLong();
  /**
   * Directives with which a unit's start as a dependency of an anchor differs from its own start
   * job: a missing or failing requirement fails {@code systemctl start x} but is ignored for a
   * wanted unit, conflicting jobs of one transaction are dropped where separate starts replace
   * each other, and a unit that refuses manual starts is started as a dependency. Such files
   * (any line setting one of them) are started by systemctl start itself, as before.
   */
  private static final Pattern UNANCHORED_DIRECTIVE = Pattern.compile(
      "(?m)^\\s*(Requires|Requisite|BindsTo|Conflicts|RefuseManualStart|Upholds)\\s*=");
  /**
   * systemd's unit search path as a system manager (systemd 252's {@code systemd-analyze
   * unit-paths}): where drop-in directories of a unit may be.
   */
  private static final List<String> UNIT_SEARCH_PATH = List.of("etc/systemd/system.control",
      "run/systemd/system.control", "run/systemd/transient", "run/systemd/generator.early", "etc/systemd/system",
      "etc/systemd/system.attached", "run/systemd/system", "run/systemd/system.attached", "run/systemd/generator",
      "usr/local/lib/systemd/system", "lib/systemd/system", "usr/lib/systemd/system", "run/systemd/generator.late");

  /**
   * Unit names systemd accepts for files we may create: its character set, a known type suffix,
   * no leading dot (so no {@code ..}, no hidden temp files) and no slash (so no path escapes).
   */
  private static final Pattern UNIT_NAME = Pattern.compile(
      "[A-Za-z0-9:_\\\\@-][A-Za-z0-9:_.\\\\@-]*"
          + "\\.(service|socket|target|timer|path|mount|automount|swap|slice|scope|device)");

  /**
   * Where and how to reach systemd.
   *
   * @param unitDir where unit files go; production: {@code /run/systemd/system}
   * @param commandPrefix put before every command; production: none; tests reach a systemd in a
   *     namespace with {@code nsenter -t <pid> -a} (and its unit dir through {@code /proc/<pid>/root})
   * @param commandTimeout how long one command may run before it is killed and reported
   * @param maxUnitsPerCommand how many unit names one command line carries at most
   * @param root the host's file system as this process sees it, where systemd's unit search path
   *     (its drop-in directories) is read; production: {@code /}; tests: {@code /proc/<pid>/root}
   */
  public record Options(Path unitDir, List<String> commandPrefix, Duration commandTimeout, int maxUnitsPerCommand,
      Path root) {
    public static final Path DEFAULT_UNIT_DIR = Path.of("/run/systemd/system");

    public Options {
      Objects.requireNonNull(unitDir, "unitDir");
      Objects.requireNonNull(root, "root");
      commandPrefix = List.copyOf(commandPrefix);
      if (commandTimeout.isNegative() || commandTimeout.isZero()) {
        throw new IllegalArgumentException("commandTimeout must be positive, was " + commandTimeout);
      }
      if (maxUnitsPerCommand < 1) {
        throw new IllegalArgumentException("maxUnitsPerCommand must be at least 1, was " + maxUnitsPerCommand);
      }
    }

    /** The host's own systemd: {@code /run/systemd/system}, no prefix, 30 s, 200 units a command. */
    public static Options defaults() {
      return new Options(DEFAULT_UNIT_DIR, List.of(), Duration.ofSeconds(30), 200, Path.of("/"));
    }

    public Options withUnitDir(Path dir) {
      return new Options(dir, commandPrefix, commandTimeout, maxUnitsPerCommand, root);
    }

    public Options withCommandPrefix(List<String> prefix) {
      return new Options(unitDir, prefix, commandTimeout, maxUnitsPerCommand, root);
    }

    public Options withCommandTimeout(Duration timeout) {
      return new Options(unitDir, commandPrefix, timeout, maxUnitsPerCommand, root);
    }

    public Options withMaxUnitsPerCommand(int max) {
      return new Options(unitDir, commandPrefix, commandTimeout, max, root);
    }

    public Options withRoot(Path hostRoot) {
      return new Options(unitDir, commandPrefix, commandTimeout, maxUnitsPerCommand, hostRoot);
    }
  }

  private final Options options;
  private final CommandRunner runner;
  /** Files changed since the last daemon-reload that worked: the next load or unload retries it. */
  private volatile boolean reloadPending;
  /** Started by the first {@link #changes()} call: a runtime nobody asks about changes spawns no follower. */
  private volatile JournalFollower follower;
  private volatile Runnable changeSignal = () -> {};
  /** Whether this runtime has looked for anchor targets' files that another fleetd process left behind. */
  private final AtomicBoolean strayAnchorsSwept = new AtomicBoolean();

  public SystemdRuntime(Options options) {
    this.options = options;
    this.runner = new CommandRunner(options.commandPrefix(), options.commandTimeout());
  }

  public SystemdRuntime(Path unitDir, List<String> commandPrefix) {
    this(Options.defaults().withUnitDir(unitDir).withCommandPrefix(commandPrefix));
  }

  public Options options() {
    return options;
  }

  @Override
  public String name() {
    return "systemd";
  }

  /** Processes this runtime has spawned so far (every systemctl and journalctl), for metrics. */
  public long commandsRun() {
    return runner.spawned() + (follower == null ? 0 : follower.spawned());
  }

  /** Whether systemd would take {@code unit} as a unit name we may write a file for. */
  public static boolean isValidUnitName(String unit) {
    return unit != null && unit.length() <= 255 && UNIT_NAME.matcher(unit).matches();
  }

  /**
   * A template ({@code web@.service}): a file to load, never a unit that runs. systemctl refuses
   * it in {@code show} (failing the whole batch) and {@code stop}, so those leave it out.
   */
  private static boolean isTemplate(String unit) {
    return unit.contains("@.");
  }

  /** Valid names that can have a state: no templates. */
  private static boolean canRun(String unit) {
    return isValidUnitName(unit) && !isTemplate(unit);
  }

  /** {@link #loadAndStart} with nothing to start: the files written, reloaded where systemd would not see them. */
  @Override
  public void load(Map<String, String> unitFiles) {
    if (!unitFiles.isEmpty()) {
      loadAndStart(unitFiles, List.of());
    }
  }

  /**
   * Yes: each call writes its own units' files and runs its own systemctl processes; systemd takes
   * the jobs of two {@code systemctl start} in whatever order they come.
   */
  @Override
  public boolean startsConcurrently() {
    return true;
  }

  /**
   * {@inheritDoc} New files of units it starts are neither checked ({@code systemctl show}) nor
   * reloaded first: systemd (v246 and later) loads a unit file it has not seen when a job is asked
   * for it, so the start alone takes them up, and a start is idempotent. What systemd says while
   * starting them decides the rest: "Unit x not found" (an older systemd) or "x changed on disk"
   * (systemd still held an earlier file of x, deleted behind our back) is followed by one
   * {@code daemon-reload} and a second start of those units. In that second case the start
   * already queued ran what systemd held (the old check reloaded first); after the reload systemd
   * has the new file, and a unit that ran before is not restarted, as {@link #load} never does.
   * A changed file, or a new file of a unit not started that systemd does not see yet
   * ({@code systemctl show}), brings one {@code daemon-reload} first. From
   * {@link #ANCHOR_MIN_UNITS} new units on, those systemd does not hold yet are started through
   * one anchor target ({@link #startThroughAnchor}); the rest as above.
   */
  @Override
  public void loadAndStart(Map<String, String> unitFiles, Collection<String> units) {
    var failures = new ArrayList<String>();
    Written w = write(unitFiles, failures);
    var valid = validNames(units, failures);
    var starting = new java.util.HashSet<>(valid);
    var freshStarted = w.fresh().stream().filter(starting::contains).collect(Collectors.toSet());
    var freshIdle = w.fresh().stream().filter(u -> !starting.contains(u)).collect(Collectors.toList());
    boolean reload = reloadPending || w.replaced() || (!freshIdle.isEmpty() && !seesOwnFiles(freshIdle));
    if (reload) {
      failures.addAll(daemonReload());
    }
    var said = new ArrayList<String>();
    java.util.function.Predicate<String> retried = reload ? l -> false
        : l -> freshStarted.stream().anyMatch(u -> notFound(l, u));
    List<String> direct = valid;
    int anchored = 0;
    if (!reload && freshStarted.size() >= ANCHOR_MIN_UNITS) {
      var anchor = anchorable(freshStarted, unitFiles);
      if (anchor.size() >= ANCHOR_MIN_UNITS) {
        var taken = new java.util.HashSet<>(anchor);
        taken.removeAll(startThroughAnchor(anchor));
        anchored = taken.size();
        direct = valid.stream().filter(u -> !taken.contains(u)).collect(Collectors.toList());
      }
    }
    failures.addAll(systemctl(List.of("start", "--no-block"), direct, retried, said));
    var again = reload ? List.<String>of() : freshStarted.stream()
        .filter(u -> said.stream().anyMatch(l -> notFound(l, u) || l.contains(" of " + u + " changed on disk")))
        .sorted().collect(Collectors.toList());
    if (!again.isEmpty()) {
      failures.addAll(daemonReload());
      failures.addAll(systemctl(List.of("start", "--no-block"), again, l -> false, null));
    }
    if (log.isDebugEnabled()) {
      String how;
      if (reload) {
        how = ", daemon-reload first";
      } else if (!again.isEmpty()) {
        how = ", daemon-reload and a second start for " + again.size() + " that systemd did not take up";
      } else if (!freshStarted.isEmpty()) {
        how = ", new files taken up by the start alone"
            + (anchored == 0 ? "" : ", " + anchored + " of them through one anchor target");
      } else {
        how = freshIdle.isEmpty() ? "" : ", new files seen by systemd without a daemon-reload";
      }
      log.debug("load and start: {} unit files, {} changed, {} started{}", unitFiles.size(), w.count(), valid.size(), how);
    }
    throwIfAny(failures);
  }

  /**
   * Of these new units to start, those that can start through an anchor (sorted): neither their
   * files nor the drop-ins systemd will read with them ({@link #dropInsSetUnanchored}) set any of
   * {@link #UNANCHORED_DIRECTIVE}, and systemd holds none of them in memory, save as not-found (one
   * {@code list-units}: a unit it holds from an earlier file must be started by its own job, whose
   * "changed on disk" warning brings the reload). None if that list fails.
   */
  private List<String> anchorable(Set<String> fresh, Map<String, String> unitFiles) {
    var candidates = fresh.stream().filter(u -> !UNANCHORED_DIRECTIVE.matcher(unitFiles.get(u)).find())
        .sorted().collect(Collectors.toList());
    if (candidates.size() < ANCHOR_MIN_UNITS) {
      return List.of();
    }
    var dropIns = dropInDirectories();
    var setting = new HashMap<String, Boolean>(); // per drop-in directory name: read once for all units
    candidates.removeIf(u -> dropInsSetUnanchored(u, dropIns, setting));
    if (candidates.size() < ANCHOR_MIN_UNITS) {
      return List.of();
    }
    Map<String, UnitStatus> held;
    try {
      held = listUnits(candidates);
    } catch (RuntimeFailure e) {
      log.debug("no anchored start: {}", e.getMessage());
      return List.of();
    }
    return candidates.stream().filter(u -> "not-found".equals(held.get(u).loadState())).collect(Collectors.toList());
  }

  /**
   * The drop-in directories ({@code *.d}) in systemd's unit search path, by name, each with the
   * places it is at; empty when there are none (the usual host: Debian ships a few, for its own
   * units). A search path directory that cannot be read counts as holding a drop-in for every unit.
   */
  private Map<String, List<Path>> dropInDirectories() {
    var found = new HashMap<String, List<Path>>();
    for (String dir : UNIT_SEARCH_PATH) {
      try (var entries = Files.newDirectoryStream(options.root().resolve(dir), "*.d")) {
        for (Path e : entries) {
          if (Files.isDirectory(e)) {
            found.computeIfAbsent(e.getFileName().toString(), k -> new ArrayList<>()).add(e);
          }
        }
      } catch (NoSuchFileException | NotDirectoryException e) {
        // not on this host
      } catch (IOException | DirectoryIteratorException e) {
        log.debug("no anchored start for units that may have drop-ins in {}: {}", dir, e.toString());
        found.put(UNREADABLE_SEARCH_PATH, List.of());
      }
    }
    return found;
  }

  /** {@link #dropInDirectories}'s entry for a search path directory it could not read. */
  private static final String UNREADABLE_SEARCH_PATH = "";

  /**
   * Whether a drop-in systemd reads for {@code unit} sets one of {@link #UNANCHORED_DIRECTIVE}
   * (or could not be read): those of the unit's own name ({@code x.service.d}), of its template
   * ({@code x@.service.d}), of each prefix of its name up to a dash ({@code a-.service.d} for
   * {@code a-b.service}) and of its type ({@code service.d}). {@code setting} remembers the answer
   * for each directory name already read (a template's or a prefix's serves many units).
   */
  private static boolean dropInsSetUnanchored(String unit, Map<String, List<Path>> dropIns,
      Map<String, Boolean> setting) {
    if (dropIns.isEmpty()) {
      return false;
    }
    if (dropIns.containsKey(UNREADABLE_SEARCH_PATH)) {
      return true;
    }
    for (String name : dropInDirectoryNames(unit)) {
      List<Path> dirs = dropIns.get(name);
      if (dirs != null && setting.computeIfAbsent(name, n -> anySetsUnanchored(dirs))) {
        return true;
      }
    }
    return false;
  }

  /** Whether a {@code *.conf} file in one of {@code dirs} sets one of {@link #UNANCHORED_DIRECTIVE}, or one could not be read. */
  private static boolean anySetsUnanchored(List<Path> dirs) {
    for (Path dir : dirs) {
      try (var confs = Files.newDirectoryStream(dir, "*.conf")) {
        for (Path conf : confs) {
          if (UNANCHORED_DIRECTIVE.matcher(Files.readString(conf)).find()) {
            return true;
          }
        }
      } catch (IOException | DirectoryIteratorException e) {
        return true;
      }
    }
    return false;
  }

  /** The names of the drop-in directories systemd reads for {@code unit} (see {@link #dropInsSetUnanchored}). */
  static List<String> dropInDirectoryNames(String unit) {
    int dot = unit.lastIndexOf('.');
    String type = unit.substring(dot + 1);
    String name = unit.substring(0, dot);
    var names = new ArrayList<String>();
    names.add(unit + ".d");
    int at = name.indexOf('@');
    if (at >= 0) {
      names.add(name.substring(0, at + 1) + "." + type + ".d");
    }
    for (int dash = name.indexOf('-'); dash >= 0; dash = name.indexOf('-', dash + 1)) {
      names.add(name.substring(0, dash + 1) + "." + type + ".d");
    }
    names.add(type + ".d");
    return names;
  }

  /**
   * Once per runtime, before its first anchor: deletes the anchor targets' files of other fleetd
   * processes in the unit directory. Each is deleted right after its start was asked for; one is
   * left only by a fleetd killed between the two, and nothing starts it again.
   */
  private void sweepStrayAnchors() {
    if (!strayAnchorsSwept.compareAndSet(false, true)) {
      return;
    }
    String ours = ANCHOR_PREFIX + ANCHOR_PROCESS + "-";
    try (var entries = Files.newDirectoryStream(options.unitDir(), ANCHOR_PREFIX + "*.target")) {
      for (Path e : entries) {
        if (!e.getFileName().toString().startsWith(ours)) {
          Files.deleteIfExists(e);
          log.info("deleted {}, an anchor target a fleetd stopped before it could delete it", e);
        }
      }
    } catch (IOException | DirectoryIteratorException e) {
      log.debug("could not look for stray anchor targets in {}: {}", options.unitDir(), e.toString());
    }
  }

  /**
   * Starts {@code units} with one D-Bus call to PID 1 where {@code systemctl start a b c…} makes
   * three per unit (StartUnit, then GetUnit and NeedDaemonReload for its warning; under load those
   * round trips, not PID 1's work, set how long a start of 100 takes): a target file of our own,
   * {@code Wants=} each unit, started with {@code --no-block}, so that systemd puts all their start
   * jobs in one transaction. The target orders nothing ({@code DefaultDependencies=no}), stops
   * itself once reached ({@code StopWhenUnneeded=yes}; stopping a target stops none of the units it
   * wants) and its file is deleted at once, so systemd lets go of it. A wanted unit that could not
   * load gets no job and says nothing: the units' load states are read afterwards (one
   * {@code list-units}) and those not loaded are returned, for systemctl start itself to start,
   * with its error lines, as before; so are all of them if the anchor's start or that read fails
   * (a second start of a unit that runs does nothing).
   */
  private List<String> startThroughAnchor(List<String> units) {
    sweepStrayAnchors();
    String anchor = ANCHOR_PREFIX + ANCHOR_PROCESS + "-" + ANCHORS.incrementAndGet() + ".target";
    Path file = options.unitDir().resolve(anchor);
    var text = new StringBuilder("[Unit]\nDescription=flotilla fleetd: start of ").append(units.size())
        .append(" units\nDefaultDependencies=no\nStopWhenUnneeded=yes\nIgnoreOnIsolate=yes\n");
    units.forEach(u -> text.append("Wants=").append(u).append('\n'));
    CommandRunner.Result r;
    try {
      // through a temp file and a rename, as the units' files: a daemon-reload beside it (another
      // start's) must not load half of it
      writeIfChanged(anchor, text.toString());
      r = runner.run(List.of("systemctl", "start", "--no-block", anchor));
    } catch (IOException e) {
      log.debug("no anchored start: could not write {}: {}", file, e.toString());
      return units;
    } finally {
      try {
        Files.deleteIfExists(file);
      } catch (IOException e) {
        log.warn("could not delete anchor target {}: {}", file, e.toString());
      }
    }
    if (!r.ok()) {
      log.debug("anchored start failed, starting the units one by one: {}: {}", describe(r), r.firstErrorLine());
      return units;
    }
    Map<String, UnitStatus> after;
    try {
      after = listUnits(units);
    } catch (RuntimeFailure e) {
      log.debug("after the anchored start: {}", e.getMessage());
      return units;
    }
    return units.stream().filter(u -> !"loaded".equals(after.get(u).loadState())).collect(Collectors.toList());
  }

  /**
   * What {@code systemctl list-units --all} says of {@code units}: {@link UnitStatus#NOT_FOUND}
   * for those it does not list (systemd does not hold them in memory). A failed command fails it.
   */
  private Map<String, UnitStatus> listUnits(List<String> units) {
    return read(units, LIST_UNITS, (chunk, r) -> parseListUnits(chunk, r.stdout()));
  }

  /**
   * systemctl's "Failed to start x.service: Unit x.service not found." about {@code unit} itself (a
   * requirement it names that is missing, "Unit y.service not found.", needs no reload).
   */
  private static boolean notFound(String line, String unit) {
    return line.equals("Failed to start " + unit + ": Unit " + unit + " not found.");
  }

  /** What {@link #write} did: files changed, those of new units (none was there), whether one was replaced. */
  private record Written(int count, List<String> fresh, boolean replaced) {}

  /** Writes the files that differ from what is there; {@code failures} gets a line per file that failed. */
  private Written write(Map<String, String> unitFiles, List<String> failures) {
    if (unitFiles.isEmpty()) {
      return new Written(0, List.of(), false);
    }
    try {
      Files.createDirectories(options.unitDir());
    } catch (IOException e) {
      throw new RuntimeFailure("could not create unit directory " + options.unitDir() + ": " + e);
    }
    int written = 0;
    var fresh = new ArrayList<String>(); // written where no file was: systemd may pick them up unasked
    boolean replaced = false;
    for (var entry : unitFiles.entrySet()) {
      String unit = entry.getKey();
      if (!isValidUnitName(unit)) {
        failures.add(invalidName(unit));
        continue;
      }
      try {
        boolean existed = Files.exists(options.unitDir().resolve(unit), LinkOption.NOFOLLOW_LINKS);
        if (writeIfChanged(unit, withMarker(entry.getValue()))) {
          written++;
          if (existed || !canRun(unit)) {
            replaced = true;
          } else {
            fresh.add(unit);
          }
        }
      } catch (IOException e) {
        failures.add(unit + ": could not write " + options.unitDir().resolve(unit) + ": " + e);
      }
    }
    return new Written(written, fresh, replaced);
  }

  @Override
  public void unload(Collection<String> units) {
    // Only our own files: a unit someone else put there (no marker) is not ours to stop.
    var owned = new ArrayList<String>();
    for (var unit : distinct(units)) {
      if (!isValidUnitName(unit)) {
        continue;
      }
      Path file = options.unitDir().resolve(unit);
      if (carriesMarker(file)) {
        owned.add(unit);
      } else if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
        log.warn("unload {}: {} was not installed by flotilla, leaving it alone", unit, file);
      }
    }
    if (owned.isEmpty()) {
      return;
    }
    // A blocking stop, so that the files go only once the units are down (and reset-failed
    // below then clears those that failed on the way down).
    var instances = owned.stream().filter(SystemdRuntime::canRun).collect(Collectors.toList());
    var failures = new ArrayList<>(systemctl(List.of("stop"), instances, true));
    for (var unit : owned) {
      try {
        Files.deleteIfExists(options.unitDir().resolve(unit));
      } catch (IOException e) {
        failures.add(unit + ": could not delete " + options.unitDir().resolve(unit) + ": " + e);
      }
    }
    failures.addAll(daemonReload());
    failures.addAll(systemctl(List.of("reset-failed"), instances, true));
    log.debug("unload: {} units", owned.size());
    throwIfAny(failures);
  }

  @Override
  public void start(Collection<String> units) {
    var failures = new ArrayList<String>();
    var valid = validNames(units, failures);
    // Non-blocking jobs in mode "replace", as fleet's StartUnit(name, "replace"): the agent polls.
    failures.addAll(systemctl(List.of("start", "--no-block"), valid, false));
    throwIfAny(failures);
  }

  /** The distinct unit names we may act on; a failure line for each other. */
  private static List<String> validNames(Collection<String> units, List<String> failures) {
    var valid = new ArrayList<String>();
    for (var unit : distinct(units)) {
      if (isValidUnitName(unit)) {
        valid.add(unit);
      } else {
        failures.add(invalidName(unit));
      }
    }
    return valid;
  }

  @Override
  public void stop(Collection<String> units) {
    var valid = distinct(units).stream().filter(SystemdRuntime::canRun).collect(Collectors.toList());
    throwIfAny(systemctl(List.of("stop", "--no-block"), valid, true));
  }

  /**
   * {@inheritDoc} Names that are no unit names, and templates ({@code web@.service}), are
   * {@link UnitStatus#NOT_FOUND} without asking systemd.
   */
  @Override
  public Map<String, UnitStatus> states(Collection<String> units) {
    return read(units, List.of("systemctl", "show", "-p", ShowOutput.PROPERTIES, "--no-pager"), (chunk, r) -> {
      try {
        return ShowOutput.parse(chunk, r.stdout());
      } catch (IllegalArgumentException e) {
        throw new RuntimeFailure("`" + CommandRunner.render(r.command()) + "`: " + e.getMessage(), e);
      }
    });
  }

  /**
   * The states of {@code units} in the order given: {@link UnitStatus#NOT_FOUND} for names systemd
   * cannot run, the others by one {@code command} per chunk of them, as {@code parse} reads its
   * output (a unit it leaves out stays NOT_FOUND). A command that fails fails the read.
   */
  private Map<String, UnitStatus> read(Collection<String> units, List<String> command,
      java.util.function.BiFunction<List<String>, CommandRunner.Result, Map<String, UnitStatus>> parse) {
    var result = new LinkedHashMap<String, UnitStatus>();
    var asked = new ArrayList<String>();
    for (var unit : distinct(units)) {
      if (canRun(unit)) {
        asked.add(unit);
      }
      result.put(unit, UnitStatus.NOT_FOUND);
    }
    for (var chunk : chunks(asked)) {
      var full = new ArrayList<>(command);
      full.addAll(chunk);
      var r = runner.run(full);
      if (!r.ok()) {
        throw new RuntimeFailure(describe(r) + ": " + r.firstErrorLine());
      }
      result.putAll(parse.apply(chunk, r));
    }
    return result;
  }

  /**
   * {@inheritDoc} One {@code systemctl list-units --all} per chunk (one ListUnitsByPatterns call
   * to PID 1: a few ms for 100 units, where {@code show} asks for every property of each and took
   * 0.3-0.9 s on a busy host); the units it does not list (not in systemd's memory: never asked
   * about, let go of while inactive, failed to load) are read with {@link #states}, which has
   * systemd load them, so they come out as {@code show} says (loaded/inactive, not-found, error).
   */
  @Override
  public Map<String, UnitStatus> reportedStates(Collection<String> units) {
    var unlisted = new ArrayList<String>();
    var result = read(units, LIST_UNITS,
        (chunk, r) -> {
          var listed = parseListUnits(chunk, r.stdout());
          chunk.stream().filter(u -> !listed.containsKey(u)).forEach(unlisted::add);
          return listed;
        });
    if (!unlisted.isEmpty()) {
      result.putAll(states(unlisted));
    }
    return result;
  }

  /**
   * {@code list-units --plain --no-legend} lines ({@code UNIT LOAD ACTIVE SUB DESCRIPTION}) of the
   * units asked for; a line that does not fit is left out (the unit is then read with show).
   */
  static Map<String, UnitStatus> parseListUnits(Collection<String> asked, String stdout) {
    var wanted = new java.util.HashSet<>(asked);
    var out = new HashMap<String, UnitStatus>();
    for (String line : stdout.split("\n")) {
      String[] f = COLUMN_GAP.split(line.strip(), 5);
      if (f.length >= 4 && wanted.contains(f[0])) {
        out.put(f[0], new UnitStatus(f[1], f[2], f[3], 0));
      }
    }
    return out;
  }

  /**
   * {@inheritDoc} The first call starts following systemd's journal (one {@code journalctl -f}
   * child for the life of this runtime); until that reached the end of the journal, and while it
   * is down, this says not live, and the agent polls.
   */
  @Override
  public StateChanges changes() {
    if (follower == null) {
      follower = new JournalFollower(options.commandPrefix(), changeSignal).start();
    }
    return follower.drain();
  }

  /** {@inheritDoc} Set it before the first {@link #changes()}: the journal follower takes it then. */
  @Override
  public void signalChangesTo(Runnable signal) {
    changeSignal = java.util.Objects.requireNonNull(signal);
  }

  /** The journal follower's process, if one runs (tests kill it). */
  OptionalLong followerPid() {
    return follower == null ? OptionalLong.empty() : follower.pid();
  }

  @Override
  public Set<String> installed() {
    if (!Files.isDirectory(options.unitDir())) {
      return Set.of();
    }
    try (var files = Files.list(options.unitDir())) {
      return files
          .filter(f -> isValidUnitName(f.getFileName().toString()) && carriesMarker(f))
          .map(f -> f.getFileName().toString())
          .collect(Collectors.toCollection(TreeSet::new));
    } catch (IOException e) {
      throw new RuntimeFailure("could not list unit directory " + options.unitDir() + ": " + e);
    }
  }

  @Override
  public JournalPage journal(String unit, int lines) {
    requireValid(unit);
    // at least one line, for its cursor: with --lines 0 a follower starts at the end, not the start
    JournalPage page = journalPage(unit, List.of("-n", Integer.toString(Math.max(1, lines))), null);
    return lines > 0 ? page : new JournalPage(List.of(), page.cursor());
  }

  /**
   * journalctl's own cursor ({@code --after-cursor}), prefixed with {@link #CURSOR_PREFIX}; before
   * the unit wrote anything the cursor is the prefix alone and the next page reads from the start.
   */
  @Override
  public JournalPage journalAfter(String unit, String cursor) {
    requireValid(unit);
    if (cursor == null || !cursor.startsWith(CURSOR_PREFIX)
        || !JOURNAL_CURSOR.matcher(cursor.substring(CURSOR_PREFIX.length())).matches()) {
      throw new IllegalArgumentException("journal cursor '" + cursor + "' was not made by this machine's "
          + "systemd runtime");
    }
    String after = cursor.substring(CURSOR_PREFIX.length());
    return journalPage(unit, after.isEmpty() ? List.of() : List.of("--after-cursor=" + after), cursor);
  }

  /**
   * One {@code journalctl -u --show-cursor} read: the lines, and the cursor of the last (or
   * {@code previous} when nothing new came; the bare prefix when the unit never wrote a line).
   */
  private JournalPage journalPage(String unit, List<String> range, String previous) {
    List<String> cmd = new ArrayList<>(List.of("journalctl", "-u", unit, "-q", "--no-pager", "-o", "short-iso",
        "--show-cursor"));
    cmd.addAll(range);
    var r = runner.run(cmd);
    // with --show-cursor, journalctl (252) exits 1 and says nothing when there is no entry to show
    boolean none = !r.timedOut() && r.exitCode() == 1 && r.stdout().isBlank() && r.stderr().isBlank();
    if (!r.ok() && !none) {
      throw new RuntimeFailure(describe(r) + ": " + r.firstErrorLine());
    }
    List<String> lines = new ArrayList<>(r.stdout().lines().toList());
    String cursor = previous != null ? previous : CURSOR_PREFIX;
    if (!lines.isEmpty() && lines.get(lines.size() - 1).startsWith(SHOWN_CURSOR)) {
      cursor = CURSOR_PREFIX + lines.remove(lines.size() - 1).substring(SHOWN_CURSOR.length()).strip();
    }
    return new JournalPage(lines, cursor);
  }

  @Override
  public String status(String unit) {
    requireValid(unit);
    var r = runner.run(List.of("systemctl", "status", "--no-pager", "-n", "10", unit));
    // 0: active; 3: not active (inactive, failed); 4: no such unit, which is an answer too.
    if (!r.timedOut() && (r.exitCode() == 0 || r.exitCode() == 3)) {
      return r.stdout();
    }
    if (!r.timedOut() && r.exitCode() == 4) {
      return r.stdout().isEmpty() ? r.stderr() : r.stdout();
    }
    throw new RuntimeFailure(describe(r) + ": " + r.firstErrorLine());
  }

  /** Stops following the journal; units keep running, and a restarted agent adopts them. */
  @Override
  public void close() {
    if (follower != null) {
      follower.close();
    }
    log.debug("closing systemd runtime after {} commands; units stay as they are", commandsRun());
  }

  // ---- files ----

  private static String withMarker(String text) {
    var body = text.startsWith(MARKER + "\n") ? text : MARKER + "\n" + text;
    return body.endsWith("\n") ? body : body + "\n";
  }

  /** Writes {@code unit}'s file through a temp file and a rename; false if it already said that. */
  private boolean writeIfChanged(String unit, String content) throws IOException {
    Path target = options.unitDir().resolve(unit);
    byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
    if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
      try {
        if (Arrays.equals(Files.readAllBytes(target), bytes)) {
          return false;
        }
      } catch (NoSuchFileException e) {
        // gone meanwhile: write it
      }
      if (!carriesMarker(target)) {
        log.warn("load {}: replacing {}, which flotilla had not installed", unit, target);
      }
    }
    // Leading dot and a suffix systemd does not know: never mistaken for a unit while it exists.
    Path temp = options.unitDir().resolve("." + unit + ".flotilla-tmp");
    try {
      Files.write(temp, bytes, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
          StandardOpenOption.WRITE, StandardOpenOption.SYNC);
      Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-r--r--"));
      try {
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temp);
    }
    return true;
  }

  private static boolean carriesMarker(Path file) {
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      return false;
    }
    try (var reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      return MARKER.equals(reader.readLine());
    } catch (IOException e) {
      return false; // gone or unreadable: not something we can claim
    }
  }

  // ---- commands ----

  /**
   * Whether systemd, asked about these units whose files we just wrote where none was, loaded each
   * from exactly that file: then no {@code daemon-reload} is needed (it re-reads every unit on the
   * host: hundreds of ms with a few hundred units). systemd (since v246 or so) loads a unit file it
   * has not seen when a unit is asked for, also one it knew as not-found, once its unit directories
   * changed. A unit loaded from another file (an older version, another directory), one that
   * wants a reload, an older systemd that says not-found, or any failure: false, and the caller
   * reloads as before.
   */
  private boolean seesOwnFiles(List<String> units) {
    for (var chunk : chunks(units)) {
      var command = new ArrayList<>(List.of("systemctl", "show", "-p", "Id,LoadState,FragmentPath,NeedDaemonReload",
          "--no-pager"));
      command.addAll(chunk);
      var r = runner.run(command);
      if (!r.ok()) {
        return false;
      }
      String[] blocks = r.stdout().strip().split("\n\s*\n");
      if (blocks.length != chunk.size()) {
        return false;
      }
      for (int i = 0; i < blocks.length; i++) {
        Map<String, String> p = new HashMap<>();
        for (String line : blocks[i].split("\n")) {
          int eq = line.indexOf('=');
          if (eq > 0) {
            p.put(line.substring(0, eq), line.substring(eq + 1));
          }
        }
        String fragment = p.getOrDefault("FragmentPath", "");
        if (!chunk.get(i).equals(p.get("Id")) || !"loaded".equals(p.get("LoadState"))
            || !"no".equals(p.get("NeedDaemonReload")) || fragment.isEmpty()) {
          return false;
        }
        // our directory as PID 1 names it (fleetd may see it under another root, as the tests do)
        Path f = Path.of(fragment);
        Path dir = f.getParent();
        if (!f.getFileName().toString().equals(chunk.get(i)) || dir == null || dir.getRoot() == null
            || !options.unitDir().endsWith(dir.getRoot().relativize(dir))) {
          return false;
        }
      }
    }
    return true;
  }

  private List<String> daemonReload() {
    var r = runner.run(List.of("systemctl", "daemon-reload"));
    reloadPending = !r.ok();
    return r.ok() ? List.of() : List.of(describe(r) + ": " + r.firstErrorLine());
  }

  /**
   * Runs {@code systemctl <verb…> <units>} per chunk and returns one failure line per chunk that
   * failed, naming the units its stderr names. With {@code notLoadedIsFine}, "Unit x not loaded."
   * is no failure (stopping or resetting a unit systemd does not have).
   */
  private List<String> systemctl(List<String> verb, List<String> units, boolean notLoadedIsFine) {
    return systemctl(verb, units, notLoadedIsFine ? l -> l.endsWith(" not loaded.") : l -> false, null);
  }

  /**
   * {@link #systemctl(List, List, boolean)} where the error lines {@code fine} accepts are no
   * failure; every stderr line (warnings too, of chunks that worked) is added to {@code said}
   * when given.
   */
  private List<String> systemctl(List<String> verb, List<String> units, java.util.function.Predicate<String> fine,
      List<String> said) {
    var failures = new ArrayList<String>();
    for (var chunk : chunks(units)) {
      var command = new ArrayList<String>(2 + verb.size() + chunk.size());
      command.add("systemctl");
      command.addAll(verb);
      command.addAll(chunk);
      var r = runner.run(command);
      if (said != null) {
        r.stderr().lines().map(String::strip).filter(l -> !l.isEmpty()).forEach(said::add);
      }
      if (r.ok()) {
        continue;
      }
      if (r.timedOut()) {
        failures.add(describe(r));
        continue;
      }
      var errors = r.stderr().lines()
          .map(String::strip)
          .filter(l -> !l.isEmpty() && !l.startsWith("See "))
          .filter(fine.negate())
          .collect(Collectors.toList());
      boolean onlyFine = errors.isEmpty() && !r.stderr().isBlank();
      if (onlyFine) {
        continue;
      }
      var named = chunk.stream()
          .filter(u -> errors.stream().anyMatch(l -> mentions(l, u)))
          .collect(Collectors.toList());
      failures.add(describe(r) + (named.isEmpty() ? "" : " for " + String.join(", ", named)) + ": "
          + (errors.isEmpty() ? "(no message)" : errors.get(0)));
    }
    return failures;
  }

  /** Whether a systemctl message names this unit as a word ("Failed to start a.service: …"). */
  private static boolean mentions(String line, String unit) {
    int from = 0;
    while (true) {
      int at = line.indexOf(unit, from);
      if (at < 0) {
        return false;
      }
      int end = at + unit.length();
      boolean startOk = at == 0 || " '\"".indexOf(line.charAt(at - 1)) >= 0;
      boolean endOk = end == line.length() || " :.'\",".indexOf(line.charAt(end)) >= 0;
      if (startOk && endOk) {
        return true;
      }
      from = at + 1;
    }
  }

  private String describe(CommandRunner.Result r) {
    var cmd = "`" + CommandRunner.render(r.command()) + "`";
    return r.timedOut() ? cmd + " timed out after " + runner.timeout().toSeconds() + " s and was killed"
        : cmd + " exited " + r.exitCode();
  }

  private List<List<String>> chunks(List<String> units) {
    var chunks = new ArrayList<List<String>>();
    int max = options.maxUnitsPerCommand();
    for (int i = 0; i < units.size(); i += max) {
      chunks.add(units.subList(i, Math.min(units.size(), i + max)));
    }
    return chunks;
  }

  private static List<String> distinct(Collection<String> units) {
    return new ArrayList<>(new LinkedHashSet<>(units));
  }

  private static String invalidName(String unit) {
    return "'" + unit + "' is not a unit name flotilla installs (letters, digits, ':_.\\@-' and a type suffix such as .service)";
  }

  private static void requireValid(String unit) {
    if (!isValidUnitName(unit)) {
      throw new RuntimeFailure(invalidName(unit));
    }
  }

  private static void throwIfAny(List<String> failures) {
    if (!failures.isEmpty()) {
      throw new RuntimeFailure(String.join("; ", failures));
    }
  }
}
