package dev.flotilla.kv.client;

/** The answer to one operation, alone or inside a {@link Txn}. */
public sealed interface OpResult permits GetResult, PutResult, DeleteResult {
  /** The store revision the answer was given at. */
  long revision();
}
