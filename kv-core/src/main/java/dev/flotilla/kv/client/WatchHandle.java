package dev.flotilla.kv.client;

/** A running watch; {@link #close()} ends it (the listener hears nothing more). */
public interface WatchHandle extends AutoCloseable {
  @Override
  void close();
}
