package dev.flotilla.kv.client;

import java.util.List;

/**
 * Which branch ran, the revision after the txn, and one result per op of that branch in op
 * order ({@link GetResult}, {@link PutResult} or {@link DeleteResult}).
 */
public record TxnResult(boolean succeeded, long revision, List<OpResult> results) {
  public TxnResult {
    results = List.copyOf(results);
  }

  /** The result of op {@code i}, as the type its op gives. */
  public <T extends OpResult> T result(int i, Class<T> type) {
    return type.cast(results.get(i));
  }
}
