package dev.flotilla.kv.client;

import java.util.Optional;

/** A put: the revision it made and the key as it was before (empty when it was created). */
public record PutResult(long revision, Optional<KeyValue> prev) implements OpResult {}
