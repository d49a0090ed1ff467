package dev.flotilla.agent.runtime.process;

import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;

/**
 * What every {@link ServiceSupervisor} of one runtime shares: the one thread they all run on, the
 * clock for "since" times, the state directory's parts and the {@code setsid} binary.
 * {@code forget} drops a unit that was unloaded once it has stopped; {@code changed} hears of
 * every change of a unit's state (the runtime's {@code changes()}).
 */
record SupervisorContext(ScheduledExecutorService executor, Clock clock, Path unitsDir, Path logsDir, Path runDir,
    String setsid, Consumer<ServiceSupervisor> forget, Consumer<String> changed) {}
