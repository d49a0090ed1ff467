package dev.flotilla.cli;

import dev.flotilla.cli.client.Endpoint;
import dev.flotilla.cli.client.FleetClient;
import dev.flotilla.cli.client.FleetClientException;
import dev.flotilla.cli.client.NettyFleetHttp;
import dev.flotilla.cli.command.CatCommand;
import dev.flotilla.cli.command.DestroyCommand;
import dev.flotilla.cli.command.JournalCommand;
import dev.flotilla.cli.command.ListMachinesCommand;
import dev.flotilla.cli.command.ListUnitFilesCommand;
import dev.flotilla.cli.command.ListUnitsCommand;
import dev.flotilla.cli.command.LoadCommand;
import dev.flotilla.cli.command.StartCommand;
import dev.flotilla.cli.command.StatusCommand;
import dev.flotilla.cli.command.StopCommand;
import dev.flotilla.cli.command.SubmitCommand;
import dev.flotilla.cli.command.UnloadCommand;
import dev.flotilla.cli.command.VersionCommand;
import dev.flotilla.cli.command.WhyCommand;
import dev.flotilla.cli.output.OutputFormat;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code bin/fctl}, the operator CLI: fleetctl's commands over fleet's HTTP API v1. The global
 * options may come before or after the command ({@code fctl --endpoint URL list-units} or
 * {@code fctl list-units --endpoint URL}). Exit status: 0 done, 1 failed (one line on stderr says
 * what and what to do), 2 usage error.
 */
@Command(
    name = "fctl",
    mixinStandardHelpOptions = true,
    versionProvider = FctlVersion.class,
    usageHelpAutoWidth = true,
    description = "Operate a Flotilla (fleet) cluster through fleetd's API v1.")
public final class Fctl implements Callable<Integer>, AutoCloseable {
  public static final int EXIT_FAILURE = 1;
  public static final int EXIT_USAGE = 2;

  /**
   * fctl's commands by name, in the order its usage lists them. picocli builds a command's model
   * from its annotations by reflection, and its own classes cannot be kept in the launcher's class
   * archive: building all fifteen took a third of a command's start. {@link #run} adds only the one
   * named on the command line, or all of them when the line asks for help, names no command or one
   * fctl does not know (so help, usage and the errors with their suggestions are picocli's as before).
   */
  static final Map<String, Class<?>> COMMANDS = commands(
      "help", CommandLine.HelpCommand.class,
      "cat", CatCommand.class,
      "destroy", DestroyCommand.class,
      "journal", JournalCommand.class,
      "list-machines", ListMachinesCommand.class,
      "list-unit-files", ListUnitFilesCommand.class,
      "list-units", ListUnitsCommand.class,
      "load", LoadCommand.class,
      "start", StartCommand.class,
      "status", StatusCommand.class,
      "stop", StopCommand.class,
      "submit", SubmitCommand.class,
      "unload", UnloadCommand.class,
      "version", VersionCommand.class,
      "why", WhyCommand.class);

  /** The root's options that take a value (the word after them is not a command). */
  static final Set<String> VALUE_OPTIONS =
      Set.of("--endpoint", "--ca-file", "--cert-file", "--key-file", "--request-timeout", "--output");

  /** The root's options that take no value, other than help and version (which build every command). */
  static final Set<String> FLAG_OPTIONS = Set.of("--debug");

  @Spec
  CommandSpec spec;

  @Option(names = "--endpoint", scope = ScopeType.INHERIT, paramLabel = "URL",
      description = "fleetd's API: unix:///path, http://host:port or https://host:port (default: $FLEETCTL_ENDPOINT, else "
          + Endpoint.DEFAULT + ")")
  String endpoint;

  @Option(names = "--ca-file", scope = ScopeType.INHERIT, paramLabel = "FILE",
      description = "CA certificate (PEM) that signs fleetd's https certificate (default: $FLEETCTL_CA_FILE)")
  String caFile;

  @Option(names = "--cert-file", scope = ScopeType.INHERIT, paramLabel = "FILE",
      description = "Client certificate (PEM) to present to fleetd over https (default: $FLEETCTL_CERT_FILE)")
  String certFile;

  @Option(names = "--key-file", scope = ScopeType.INHERIT, paramLabel = "FILE",
      description = "Key (PEM, PKCS#8) of --cert-file (default: $FLEETCTL_KEY_FILE)")
  String keyFile;

  @Option(names = "--request-timeout", scope = ScopeType.INHERIT, paramLabel = "SECONDS",
      description = "Time allowed for each request to fleetd (default: $FLEETCTL_REQUEST_TIMEOUT, else 3)")
  Double requestTimeout;

  @Option(names = "--output", scope = ScopeType.INHERIT, paramLabel = "FORMAT", defaultValue = "table",
      description = "table (fleetctl's) or json (the API's objects) for list-*, cat, status and why (default: table)")
  OutputFormat output;

  @Option(names = "--debug", scope = ScopeType.INHERIT, description = "Print stack traces of failures")
  boolean debug;

  private final PrintWriter out;
  private final PrintWriter err;
  private final PrintStream rawOut;
  private final Map<String, String> env;
  private FleetClient client;

  Fctl(PrintWriter out, PrintWriter err, PrintStream rawOut, Map<String, String> env) {
    this.out = out;
    this.err = err;
    this.rawOut = rawOut;
    this.env = env;
  }

  public static void main(String[] args) {
    // a CLI prints its own messages and only warnings from libraries (Netty, the TLS set-up), through
    // slf4j-simple on stderr (bin/fctl's class path; FLOTILLA_LOG_LEVEL=debug shows more)
    String level = System.getenv("FLOTILLA_LOG_LEVEL");
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel",
          level == null || level.isBlank() ? "warn" : level.strip().toLowerCase(java.util.Locale.ROOT));
    }
    // picocli looks for Groovy's Closure class once (fctl has no Groovy): a class that is not there
    // is looked for in every jar of the class path, which opens all 36 (~30 ms)
    if (System.getProperty("picocli.disable.closures") == null) {
      System.setProperty("picocli.disable.closures", "true");
    }
    if (invokedCommand(args) != VersionCommand.class) {
      Preinitializer.begin();
    }
    int status = run(args, System.out, System.err);
    if (ArchiveWarmUp.wanted()) {
      ArchiveWarmUp.run(); // the launcher writes its class archive at this exit
    }
    System.exit(status);
  }

  /** Runs fctl in this process, as the launcher does; returns the exit status. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return run(args, out, err, System.getenv());
  }

  /** As {@link #run(String[], PrintStream, PrintStream)}, with the environment given. */
  public static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
    PrintWriter o = new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true);
    PrintWriter e = new PrintWriter(new OutputStreamWriter(err, StandardCharsets.UTF_8), true);
    try (Fctl root = new Fctl(o, e, out, env)) {
      return commandLine(root, invokedCommand(args)).execute(args);
    } finally {
      o.flush();
      e.flush();
    }
  }

  /** fctl's command line with the command {@code only} (null: all of them). */
  static CommandLine commandLine(Fctl root, Class<?> only) {
    CommandLine cl = new CommandLine(root);
    // before the settings below: picocli applies them to the commands it has
    if (only != null) {
      cl.addSubcommand(only);
    } else {
      COMMANDS.values().forEach(cl::addSubcommand);
    }
    cl.setOut(root.out);
    cl.setErr(root.err);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setParameterExceptionHandler(Fctl::usageError);
    cl.setExecutionExceptionHandler((ex, cmd, parsed) -> root.failure(ex));
    for (CommandLine sub : cl.getSubcommands().values()) {
      if (sub.getCommandSpec().findOption("--help") == null) {
        sub.getCommandSpec().addOption(OptionSpec.builder("-h", "--help").usageHelp(true)
            .description("Show this help message and exit.").build());
      }
    }
    return cl;
  }

  /**
   * The command the line names, when it is one of fctl's other than help and only root options with
   * their values come before it; null otherwise (every command is built then).
   */
  static Class<?> invokedCommand(String[] args) {
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      int eq = a.indexOf('=');
      if (VALUE_OPTIONS.contains(a)) {
        // a command's name as the value: picocli's answer depends on what it knows, so it knows all
        if (i + 1 < args.length && COMMANDS.containsKey(args[i + 1])) {
          return null;
        }
        i++;
      } else if (a.startsWith("--") && eq > 0 && VALUE_OPTIONS.contains(a.substring(0, eq))) {
        continue;
      } else if (!FLAG_OPTIONS.contains(a)) {
        Class<?> c = COMMANDS.get(a);
        return c == CommandLine.HelpCommand.class ? null : c;
      }
    }
    return null;
  }

  private static Map<String, Class<?>> commands(Object... nameThenClass) {
    Map<String, Class<?>> m = new LinkedHashMap<>();
    for (int i = 0; i < nameThenClass.length; i += 2) {
      m.put((String) nameThenClass[i], (Class<?>) nameThenClass[i + 1]);
    }
    return Collections.unmodifiableMap(m);
  }

  /** No command: the usage, and status 2 (fleetctl shows its help). */
  @Override
  public Integer call() {
    spec.commandLine().usage(err);
    return EXIT_USAGE;
  }

  private static int usageError(ParameterException ex, String[] args) {
    CommandLine cmd = ex.getCommandLine();
    PrintWriter err = cmd.getErr();
    String message = firstLine(ex.getMessage());
    // an unknown word where the command belongs: say so, with picocli's nearest command
    if (ex instanceof CommandLine.UnmatchedArgumentException u && !u.isUnknownOption() && cmd.getParent() == null
        && !u.getUnmatched().isEmpty() && !cmd.getParseResult().hasSubcommand()) {
      message = "unknown command '" + u.getUnmatched().get(0) + "'";
      List<String> suggestions = u.getSuggestions();
      if (!suggestions.isEmpty()) {
        message += " (did you mean " + suggestions.get(0) + "?)";
      }
    }
    err.println("fctl: " + message + "; see '" + cmd.getCommandSpec().qualifiedName() + " --help'");
    return EXIT_USAGE;
  }

  private int failure(Exception ex) {
    if (ex instanceof FctlException || ex instanceof FleetClientException) {
      err.println("fctl: " + firstLine(ex.getMessage()));
    } else {
      err.println("fctl: unexpected failure: " + firstLine(String.valueOf(ex))
          + (debug ? "" : "; run again with --debug for the stack trace"));
    }
    if (debug) {
      ex.printStackTrace(err);
    }
    return EXIT_FAILURE;
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return (nl < 0 ? s : s.substring(0, nl)).strip();
  }

  // ---- what commands share

  public PrintWriter out() {
    return out;
  }

  public PrintWriter err() {
    return err;
  }

  /** Whether stdout can no longer be written (a closed pipe: {@code fctl journal -f | head}). */
  public boolean outputClosed() {
    return out.checkError() || rawOut.checkError();
  }

  public OutputFormat output() {
    return output;
  }

  /** The client for the endpoint chosen, made on first use; bad option values are usage errors. */
  public FleetClient client() {
    if (client == null) {
      String url = endpoint != null ? endpoint : env.getOrDefault("FLEETCTL_ENDPOINT", "");
      if (url.isBlank()) {
        url = Endpoint.DEFAULT;
      }
      Endpoint ep;
      try {
        ep = Endpoint.parse(url);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), e.getMessage());
      }
      client = new FleetClient(new NettyFleetHttp(ep, timeout(), tls(ep)), ep);
    }
    return client;
  }

  /** TLS towards an https endpoint from --ca-file/--cert-file/--key-file (or FLEETCTL_*); null otherwise. */
  private io.netty.handler.ssl.SslContext tls(Endpoint ep) {
    String ca = caFile != null ? caFile : env.get("FLEETCTL_CA_FILE");
    String cert = certFile != null ? certFile : env.get("FLEETCTL_CERT_FILE");
    String key = keyFile != null ? keyFile : env.get("FLEETCTL_KEY_FILE");
    if (!ep.https()) {
      return null;
    }
    // one command, one handshake or a few: the files are read once (close stops the reload checks)
    try (var creds = dev.flotilla.kv.tls.TlsCredentials.load(
        dev.flotilla.kv.tls.TlsSettings.tool(path(ca), path(cert), path(key)))) {
      return creds.nettyClient();
    } catch (java.io.IOException | IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  private static java.nio.file.Path path(String s) {
    return s == null || s.isBlank() ? null : java.nio.file.Path.of(s);
  }

  private Duration timeout() {
    double seconds;
    if (requestTimeout != null) {
      seconds = requestTimeout;
    } else {
      String fromEnv = env.getOrDefault("FLEETCTL_REQUEST_TIMEOUT", "");
      try {
        seconds = fromEnv.isBlank() ? 3.0 : Double.parseDouble(fromEnv.strip());
      } catch (NumberFormatException e) {
        throw new ParameterException(spec.commandLine(),
            "FLEETCTL_REQUEST_TIMEOUT='" + fromEnv + "' is not a number of seconds");
      }
    }
    if (!(seconds > 0) || seconds > 3600) {
      throw new ParameterException(spec.commandLine(),
          "--request-timeout must be more than 0 and at most 3600 seconds, got " + seconds);
    }
    return Duration.ofNanos((long) (seconds * 1e9));
  }

  @Override
  public void close() {
    if (client != null) {
      client.close();
    }
  }
}
