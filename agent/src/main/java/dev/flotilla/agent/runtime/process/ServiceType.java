package dev.flotilla.agent.runtime.process;

/** {@code Type=} of a service. {@code forking}, {@code notify}, {@code dbus} and {@code idle} are refused at load. */
enum ServiceType {
  SIMPLE,
  /** As {@code simple}: the executable is checked before the start, so an exec failure is reported by start. */
  EXEC,
  ONESHOT;

  static ServiceType parse(String value) {
    return switch (value) {
      case "simple" -> SIMPLE;
      case "exec" -> EXEC;
      case "oneshot" -> ONESHOT;
      case "forking" -> throw new IllegalArgumentException("Type=forking is not supported by the process runtime "
          + "(it cannot follow a daemon that leaves its session); run the daemon in the foreground with "
          + "Type=simple, or use --runtime=systemd");
      case "notify", "notify-reload", "dbus", "idle" -> throw new IllegalArgumentException("Type=" + value
          + " is not supported by the process runtime; use Type=simple, exec or oneshot, or --runtime=systemd");
      default -> throw new IllegalArgumentException("Type=" + value + ": expected simple, exec, oneshot or forking");
    };
  }
}
