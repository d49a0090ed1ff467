package dev.flotilla.kv.client;

import java.util.List;
import java.util.Optional;

/** The keys of a range in key order, read at {@code revision}. */
public record GetResult(long revision, List<KeyValue> kvs) implements OpResult {
  public GetResult {
    kvs = List.copyOf(kvs);
  }

  public Optional<KeyValue> first() {
    return kvs.isEmpty() ? Optional.empty() : Optional.of(kvs.get(0));
  }
}
