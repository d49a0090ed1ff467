package dev.flotilla.agent.runtime.process;

import dev.flotilla.scheduler.unit.Specifiers;
import dev.flotilla.scheduler.unit.UnitFile;
import dev.flotilla.scheduler.unit.UnitName;
import dev.flotilla.scheduler.unit.Words;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * The [Service] settings the process runtime honours, read from a unit file with specifiers
 * expanded. Everything here is checked at load, so that a bad setting shows as load state
 * {@code error} with its reason instead of surfacing at some later start.
 */
record ServiceSpec(
    ServiceType type,
    List<ExecCommand> execStartPre,
    List<ExecCommand> execStart,
    List<ExecCommand> execStartPost,
    List<ExecCommand> execStop,
    List<ExecCommand> execStopPost,
    RestartPolicy restart,
    Duration restartSec,
    boolean remainAfterExit,
    Duration timeoutStartSec,
    Duration timeoutStopSec,
    Map<String, String> environment,
    List<EnvironmentFile> environmentFiles,
    Optional<WorkingDirectory> workingDirectory,
    int startLimitBurst,
    Duration startLimitInterval,
    Set<String> ignoredSettings) {

  /** {@code EnvironmentFile=[-]path}. */
  record EnvironmentFile(Path path, boolean optional) {}

  /** {@code WorkingDirectory=[-]path}; {@code ~} is the agent user's home. */
  record WorkingDirectory(Path path, boolean optional) {}

  private static final Set<String> SUPPORTED = Set.of("Type", "ExecStartPre", "ExecStart", "ExecStartPost",
      "ExecStop", "ExecStopPost", "Restart", "RestartSec", "RemainAfterExit", "TimeoutSec", "TimeoutStartSec",
      "TimeoutStopSec", "Environment", "EnvironmentFile", "WorkingDirectory", "StartLimitBurst",
      "StartLimitIntervalSec", "StartLimitInterval");

  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(90);
  static final Duration DEFAULT_TIMEOUT_STOP = Duration.ofSeconds(10);
  static final Duration DEFAULT_RESTART_SEC = Duration.ofMillis(100);

  /** Reads the service settings of {@code file}; throws {@link IllegalArgumentException} naming the setting. */
  static ServiceSpec parse(UnitName name, UnitFile file) {
    ServiceType type = file.value("Service", "Type").map(ServiceType::parse).orElse(ServiceType.SIMPLE);
    List<ExecCommand> pre = exec(name, file, "ExecStartPre");
    List<ExecCommand> start = exec(name, file, "ExecStart");
    if (type != ServiceType.ONESHOT && start.size() != 1) {
      throw new IllegalArgumentException(start.isEmpty()
          ? "no ExecStart= in [Service]; a Type=" + type.name().toLowerCase() + " service needs exactly one"
          : start.size() + " ExecStart= lines; only Type=oneshot services may have more than one");
    }
    RestartPolicy restart = file.value("Service", "Restart").map(RestartPolicy::parse).orElse(RestartPolicy.NO);
    Duration timeout = file.value("Service", "TimeoutSec").map(v -> span("TimeoutSec", v, true)).orElse(null);
    Duration timeoutStart = file.value("Service", "TimeoutStartSec").map(v -> span("TimeoutStartSec", v, true))
        .orElse(timeout != null ? timeout : type == ServiceType.ONESHOT ? TimeSpans.INFINITY : DEFAULT_TIMEOUT);
    Duration timeoutStop = file.value("Service", "TimeoutStopSec").map(v -> span("TimeoutStopSec", v, true))
        .orElse(timeout != null ? timeout : DEFAULT_TIMEOUT_STOP);
    Map<String, String> env = new LinkedHashMap<>();
    for (String value : file.values("Service", "Environment")) {
      parseAssignments("Environment=" + value, expand(name, "Environment", value), env);
    }
    List<EnvironmentFile> envFiles = new ArrayList<>();
    for (String value : file.values("Service", "EnvironmentFile")) {
      String v = expand(name, "EnvironmentFile", value);
      boolean optional = v.startsWith("-");
      envFiles.add(new EnvironmentFile(absolute("EnvironmentFile", optional ? v.substring(1) : v), optional));
    }
    Optional<WorkingDirectory> workDir = file.value("Service", "WorkingDirectory").map(value -> {
      String v = expand(name, "WorkingDirectory", value);
      boolean optional = v.startsWith("-");
      String p = optional ? v.substring(1) : v;
      if (p.equals("~")) {
        p = System.getProperty("user.home");
      }
      return new WorkingDirectory(absolute("WorkingDirectory", p), optional);
    });
    String interval = file.value("Unit", "StartLimitIntervalSec")
        .or(() -> file.value("Service", "StartLimitIntervalSec"))
        .or(() -> file.value("Service", "StartLimitInterval")).orElse("10s");
    String burst = file.value("Unit", "StartLimitBurst").or(() -> file.value("Service", "StartLimitBurst")).orElse("5");
    int startLimitBurst;
    try {
      startLimitBurst = Integer.parseInt(burst);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("StartLimitBurst=" + burst + ": not a number");
    }
    Set<String> ignored = new TreeSet<>();
    file.options("Service").forEach(o -> {
      if (!SUPPORTED.contains(o.name())) {
        ignored.add(o.name());
      }
    });
    return new ServiceSpec(type, pre, start, exec(name, file, "ExecStartPost"), exec(name, file, "ExecStop"),
        exec(name, file, "ExecStopPost"), restart,
        file.value("Service", "RestartSec").map(v -> span("RestartSec", v, false)).orElse(DEFAULT_RESTART_SEC),
        file.value("Service", "RemainAfterExit").map(v -> bool("RemainAfterExit", v)).orElse(false),
        timeoutStart, timeoutStop, Map.copyOf(env), List.copyOf(envFiles), workDir, startLimitBurst,
        span("StartLimitIntervalSec", interval, false), Set.copyOf(ignored));
  }

  /** Every command that runs to start the unit, in order (checked before a start). */
  List<ExecCommand> startCommands() {
    List<ExecCommand> all = new ArrayList<>(execStartPre);
    all.addAll(execStart);
    all.addAll(execStartPost);
    return all;
  }

  /**
   * {@code KEY=value} lines of an environment file (systemd.exec(5)): blank lines and lines starting
   * with {@code #} or {@code ;} are skipped, an optional {@code export } is dropped, a value in single
   * or double quotes loses them. Throws {@link IOException} when a non-optional file is missing.
   */
  static void readEnvironmentFile(EnvironmentFile f, Map<String, String> into) throws IOException {
    List<String> lines;
    try {
      lines = Files.readAllLines(f.path(), StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      if (f.optional()) {
        return;
      }
      throw e;
    }
    for (String raw : lines) {
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
        continue;
      }
      if (line.startsWith("export ")) {
        line = line.substring(7).strip();
      }
      int eq = line.indexOf('=');
      if (eq <= 0) {
        continue; // systemd ignores such lines with a warning
      }
      String key = line.substring(0, eq).strip();
      String value = line.substring(eq + 1).strip();
      if (value.length() >= 2 && (value.charAt(0) == '"' || value.charAt(0) == '\'')
          && value.charAt(value.length() - 1) == value.charAt(0)) {
        value = value.substring(1, value.length() - 1);
      }
      into.put(key, value);
    }
  }

  private static List<ExecCommand> exec(UnitName name, UnitFile file, String key) {
    List<ExecCommand> out = new ArrayList<>();
    for (String value : file.values("Service", key)) {
      out.add(ExecCommand.parse(key, expand(name, key, value)));
    }
    return List.copyOf(out);
  }

  private static void parseAssignments(String where, String value, Map<String, String> into) {
    List<String> words;
    try {
      words = Words.split(value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": " + e.getMessage());
    }
    for (String w : words) {
      String word = ExecCommand.unescape(w);
      int eq = word.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException(where + ": '" + word + "' is not NAME=value");
      }
      into.put(word.substring(0, eq), word.substring(eq + 1));
    }
  }

  private static Duration span(String key, String value, boolean zeroIsInfinity) {
    Duration d;
    try {
      d = TimeSpans.parse(value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(key + "=" + value + ": " + e.getMessage());
    }
    return zeroIsInfinity && d.isZero() ? TimeSpans.INFINITY : d;
  }

  private static boolean bool(String key, String value) {
    return switch (value.toLowerCase()) {
      case "yes", "y", "true", "t", "on", "1" -> true;
      case "no", "n", "false", "f", "off", "0" -> false;
      default -> throw new IllegalArgumentException(key + "=" + value + ": expected yes or no");
    };
  }

  private static Path absolute(String key, String path) {
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException(key + "=" + path + ": the path must be absolute");
    }
    return Path.of(path);
  }

  /**
   * Expands the specifiers systemd expands in these settings: {@code %n %N %p %i %I %H %%}. Others
   * are refused by name rather than passed on as text the command would not expect.
   */
  static String expand(UnitName name, String key, String value) {
    try {
      // beyond the unit-level ones: the unescaped instance and this host's name
      Map<Character, Supplier<String>> host = Map.of('I', () -> ExecCommand.unescape(name.instance()),
          'H', ServiceSpec::hostname);
      return Specifiers.expand(value, name, host, "the process runtime");
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(key + "=" + value + ": " + e.getMessage(), e);
    }
  }

  private static String hostname() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "localhost";
    }
  }
}
