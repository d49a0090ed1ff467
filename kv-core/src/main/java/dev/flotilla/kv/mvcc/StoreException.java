package dev.flotilla.kv.mvcc;

/** A failure of the storage engine under the store: not the client's fault, not recoverable here. */
public final class StoreException extends RuntimeException {
  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
