package dev.flotilla.raft.sim;

import dev.flotilla.raft.core.Message;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * A network that drops, delays (and so reorders), duplicates and partitions messages, all decided
 * by the simulation's seeded random. A partition assigns members to groups; messages only flow
 * within a group, checked when a message is delivered.
 */
public final class SimNetwork {

  /** Fault rates; all zero is a perfect network with {@code minDelay..maxDelay} latency. */
  public record Faults(double drop, double duplicate, double longDelay, long minDelayMicros, long maxDelayMicros,
      long longDelayMicros) {
    public static final Faults NONE = new Faults(0, 0, 0, 200, 2_000, 0);
  }

  private final EventQueue events;
  private final Random random;
  private final Consumer<Message> deliver;
  private final Map<Long, Integer> group = new HashMap<>();
  private Faults faults = Faults.NONE;
  private long sent;
  private long dropped;

  SimNetwork(EventQueue events, Random random, Consumer<Message> deliver) {
    this.events = events;
    this.random = random;
    this.deliver = deliver;
  }

  public void setFaults(Faults f) {
    this.faults = f;
  }

  public Faults faults() {
    return faults;
  }

  /** Splits members into groups: {@code groups[i]} lists the members of group i; unlisted members are alone. */
  public void partition(long[]... groups) {
    group.clear();
    for (int g = 0; g < groups.length; g++) {
      for (long id : groups[g]) {
        group.put(id, g);
      }
    }
    partitioned = true;
  }

  private boolean partitioned;

  public void heal() {
    group.clear();
    partitioned = false;
  }

  /** Cuts {@code id} off from everyone else. */
  public void isolate(long id) {
    if (!partitioned) {
      partitioned = true;
      group.clear();
    }
    group.put(id, -1 - (int) id);
  }

  public boolean connected(long a, long b) {
    if (!partitioned) {
      return true;
    }
    Integer ga = group.get(a);
    Integer gb = group.get(b);
    int x = ga == null ? (int) (-1000 - a) : ga;
    int y = gb == null ? (int) (-1000 - b) : gb;
    return x == y;
  }

  void send(Message m) {
    sent++;
    if (faults.drop() > 0 && random.nextDouble() < faults.drop()) {
      dropped++;
      return;
    }
    int copies = faults.duplicate() > 0 && random.nextDouble() < faults.duplicate() ? 2 : 1;
    for (int i = 0; i < copies; i++) {
      long delay = faults.minDelayMicros()
          + (long) (random.nextDouble() * (faults.maxDelayMicros() - faults.minDelayMicros()));
      if (faults.longDelay() > 0 && random.nextDouble() < faults.longDelay()) {
        delay += (long) (random.nextDouble() * faults.longDelayMicros());
      }
      events.schedule(delay, "deliver", () -> {
        if (connected(m.from(), m.to())) {
          deliver.accept(m);
        } else {
          dropped++;
        }
      });
    }
  }

  public long sent() {
    return sent;
  }

  public long dropped() {
    return dropped;
  }
}
