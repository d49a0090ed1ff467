package dev.flotilla.raft.core;

import java.util.Objects;

/**
 * The application's state as of log {@code index} (whose entry had {@code term}), with the
 * membership in effect there. {@code data} is opaque to Raft. Index 0 means "no snapshot".
 */
public record Snapshot(long index, long term, ConfState confState, byte[] data) {

  public static final Snapshot EMPTY = new Snapshot(0, 0, ConfState.EMPTY, new byte[0]);

  public Snapshot {
    Objects.requireNonNull(confState, "confState");
    data = data == null ? new byte[0] : data;
    if (index < 0 || term < 0) {
      throw new IllegalArgumentException("snapshot index and term must be >= 0, got " + index + "/" + term);
    }
  }

  public boolean isEmpty() {
    return index == 0;
  }

  @Override
  public String toString() {
    return "Snapshot[" + index + "/" + term + " " + confState + " " + data.length + "B]";
  }
}
