package dev.flotilla.kv.client;

/**
 * One change seen by a watch. A DELETE carries the key and the revision of the delete
 * ({@code kv().modRevision()}) only, as etcd sends it.
 */
public record WatchEvent(Type type, KeyValue kv) {
  public enum Type { PUT, DELETE }

  public long revision() {
    return kv.modRevision();
  }
}
