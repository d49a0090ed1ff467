package dev.flotilla.raft.sim;

/** Simulated time in microseconds; only the {@link EventQueue} moves it. */
public final class SimClock {

  private long nowMicros;

  public long nowMicros() {
    return nowMicros;
  }

  void advanceTo(long micros) {
    if (micros < nowMicros) {
      throw new IllegalStateException("time cannot go back from " + nowMicros + " to " + micros);
    }
    nowMicros = micros;
  }
}
