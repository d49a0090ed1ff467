package dev.flotilla.kv.client;

import java.util.List;

/** A delete: the keys it removed, as they were; the revision is unchanged when it removed nothing. */
public record DeleteResult(long revision, List<KeyValue> deleted) implements OpResult {
  public DeleteResult {
    deleted = List.copyOf(deleted);
  }
}
