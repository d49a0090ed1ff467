package dev.flotilla.scheduler.fleet;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An amount of CPU and memory: what a unit reserves ({@code CPUReservation=},
 * {@code MemoryReservation=}) or what a machine offers.
 *
 * <p>CPU is counted in thousandths of a core (millicores): reservations are compared with the
 * number of CPUs an agent reports, which shares (relative weights, systemd's {@code CPUWeight=})
 * cannot be. Memory is in bytes.
 */
public record Resources(long cpuMillis, long memoryBytes) {

  public static final Resources NONE = new Resources(0, 0);

  private static final Pattern SIZE = Pattern.compile("([0-9]+)(?:\\.([0-9]+))?\\s*([BKMGT]?)");
  private static final Pattern CORES = Pattern.compile("([0-9]+)(?:\\.([0-9]{1,3}))?");
  private static final Pattern PERCENT = Pattern.compile("([0-9]+)(?:\\.([0-9]))?%");

  public Resources {
    if (cpuMillis < 0 || memoryBytes < 0) {
      throw new IllegalArgumentException("negative resources: cpu " + cpuMillis + "m, memory " + memoryBytes);
    }
  }

  public static Resources cpu(long millis) {
    return new Resources(millis, 0);
  }

  public static Resources memory(long bytes) {
    return new Resources(0, bytes);
  }

  public boolean isZero() {
    return cpuMillis == 0 && memoryBytes == 0;
  }

  public Resources plus(Resources o) {
    return new Resources(Math.addExact(cpuMillis, o.cpuMillis), Math.addExact(memoryBytes, o.memoryBytes));
  }

  /** Subtraction that may go below zero only as an error: callers subtract what they added. */
  public Resources minus(Resources o) {
    return new Resources(cpuMillis - o.cpuMillis, memoryBytes - o.memoryBytes);
  }

  /** Whether {@code need} fits in this amount. */
  public boolean covers(Resources need) {
    return need.cpuMillis <= cpuMillis && need.memoryBytes <= memoryBytes;
  }

  /**
   * Parses a memory size as systemd's {@code MemoryLimit=} does: a number of bytes, optionally
   * with a fraction, followed by {@code K}, {@code M}, {@code G} or {@code T} (powers of 1024) or
   * {@code B}; the result is rounded down to whole bytes. {@code 512M}, {@code 1.5G}, {@code 1048576}.
   */
  public static long parseMemory(String s) {
    Matcher m = SIZE.matcher(s);
    if (!m.matches()) {
      throw new IllegalArgumentException("'" + s + "' is not a size: use bytes with an optional K, M, G or T "
          + "suffix (powers of 1024), e.g. 512M or 1.5G");
    }
    long factor = switch (m.group(3)) {
      case "K" -> 1L << 10;
      case "M" -> 1L << 20;
      case "G" -> 1L << 30;
      case "T" -> 1L << 40;
      default -> 1L;
    };
    BigDecimal number = new BigDecimal(m.group(1) + (m.group(2) == null ? "" : "." + m.group(2)));
    BigDecimal bytes = number.multiply(BigDecimal.valueOf(factor)).setScale(0, RoundingMode.FLOOR);
    if (bytes.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
      throw new IllegalArgumentException("'" + s + "' is too large");
    }
    return bytes.longValueExact();
  }

  /**
   * Parses a CPU amount: cores with up to three decimals ({@code 0.5}, {@code 2}, {@code 0.125}) or
   * a percentage of one CPU as in systemd's {@code CPUQuota=} ({@code 50%}, {@code 250%}).
   * Returns millicores.
   */
  public static long parseCpu(String s) {
    Matcher cores = CORES.matcher(s);
    try {
      if (cores.matches()) {
        String frac = cores.group(2) == null ? "" : cores.group(2);
        long whole = Long.parseLong(cores.group(1));
        return Math.addExact(Math.multiplyExact(whole, 1000), frac.isEmpty() ? 0
            : Long.parseLong((frac + "00").substring(0, 3)));
      }
      Matcher pct = PERCENT.matcher(s);
      if (pct.matches()) {
        long whole = Long.parseLong(pct.group(1));
        long tenth = pct.group(2) == null ? 0 : Long.parseLong(pct.group(2));
        return Math.addExact(Math.multiplyExact(whole, 10), tenth);
      }
    } catch (ArithmeticException | NumberFormatException e) {
      throw new IllegalArgumentException("'" + s + "' is too large");
    }
    throw new IllegalArgumentException("'" + s + "' is not a CPU amount: use cores (0.5, 2) or a percentage of "
        + "one CPU (50%, 250%)");
  }

  /** "2 GiB", "1.5 GiB", "512 MiB", "100 B": the largest binary unit, one decimal at most. */
  public static String formatMemory(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int u = 0;
    long scale = 1;
    while (u + 1 < units.length && bytes >= scale * 1024) {
      scale *= 1024;
      u++;
    }
    if (u == 0) {
      return bytes + " B";
    }
    BigDecimal v = BigDecimal.valueOf(bytes).divide(BigDecimal.valueOf(scale), 1, RoundingMode.FLOOR)
        .stripTrailingZeros();
    return v.toPlainString() + " " + units[u];
  }

  /** "1.5 CPU", "0.25 CPU", "2 CPU". */
  public static String formatCpu(long millis) {
    return BigDecimal.valueOf(millis, 3).stripTrailingZeros().toPlainString() + " CPU";
  }

  @Override
  public String toString() {
    return formatCpu(cpuMillis) + ", " + formatMemory(memoryBytes);
  }
}
