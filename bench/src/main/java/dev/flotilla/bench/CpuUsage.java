package dev.flotilla.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Who used the CPU during the measured window, in cores (1.0 = one core busy the whole window):
 * this generator, the server (when its pid is known) and everything else on the machine. On a
 * 2-core machine shared with other work, "other" is what tells a clean run from a noisy one.
 * Reads Linux {@code /proc}; elsewhere only the generator's share is known.
 */
record CpuUsage(double generator, double server, double other) {
    /** Linux reports /proc times in USER_HZ, which is 100 on every architecture the JDK runs on. */
    private static final long TICKS_PER_SECOND = 100;
    private static final double UNKNOWN = -1;

    /** CPU counters at one instant; -1 where not readable. */
    record Sample(long nanos, long selfCpuNanos, long serverTicks, long machineBusyTicks) {
        /** With the server's processes summed (the members of a cluster on this machine). */
        static Sample take(java.util.List<Long> serverPids) {
            long ticks = serverPids.isEmpty() ? -1 : 0;
            for (long pid : serverPids) {
                long t = readProcessTicks(pid);
                if (t < 0) {
                    ticks = -1;
                    break;
                }
                ticks += t;
            }
            return new Sample(System.nanoTime(), readSelfCpuNanos(), ticks, readMachineBusyTicks());
        }
    }

    static CpuUsage between(Sample a, Sample b) {
        double seconds = (b.nanos() - a.nanos()) / 1e9;
        double generator = a.selfCpuNanos() < 0 ? UNKNOWN : (b.selfCpuNanos() - a.selfCpuNanos()) / 1e9 / seconds;
        double server = a.serverTicks() < 0 || b.serverTicks() < 0 ? UNKNOWN
                : ticksToCores(b.serverTicks() - a.serverTicks(), seconds);
        double other = UNKNOWN;
        if (a.machineBusyTicks() >= 0 && generator >= 0) {
            double machine = ticksToCores(b.machineBusyTicks() - a.machineBusyTicks(), seconds);
            // /proc ticks are 10 ms coarse: clamp the small negative remainders to zero
            other = Math.max(0, machine - generator - Math.max(0, server));
        }
        return new CpuUsage(round(generator), round(server), round(other));
    }

    private static double ticksToCores(long ticks, double seconds) {
        return ticks / (double) TICKS_PER_SECOND / seconds;
    }

    private static double round(double cores) {
        return cores < 0 ? UNKNOWN : Math.round(cores * 100) / 100.0;
    }

    private static long readSelfCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    /** utime + stime of a process, fields 14 and 15 of /proc/PID/stat (after the "(comm)" field). */
    static long readProcessTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14, 15 counted from 1
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Busy ticks of all CPUs: user, nice, system, irq, softirq, steal (not idle, not iowait). */
    static long readMachineBusyTicks() {
        try {
            String first = Files.readAllLines(Path.of("/proc/stat")).get(0);
            String[] f = first.trim().split("\\s+");
            long busy = 0;
            for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
                busy += Long.parseLong(f[i]);
            }
            return busy;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
