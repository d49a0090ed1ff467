package dev.flotilla.kv.client;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** A store operation failed: what kind of failure, with the store's own words. */
public final class StoreException extends RuntimeException {

  public enum Code {
    /** The revision asked for was compacted away. */
    COMPACTED,
    /** The revision asked for is newer than the store's. */
    FUTURE_REVISION,
    /** The lease does not exist (expired, revoked or never granted). */
    LEASE_NOT_FOUND,
    /** The store refused the request as malformed or too large. */
    INVALID_REQUEST,
    /** The store could not be reached or could not serve. */
    UNAVAILABLE,
    /** No answer within the client's request timeout. */
    TIMEOUT,
    /** The client was closed. */
    CLOSED
  }

  private final Code code;

  public StoreException(Code code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  public StoreException(Code code, String message) {
    this(code, message, null);
  }

  /** A kept-alive lease that the store no longer has, in etcd's words plus which lease. */
  static StoreException leaseGone(long lease, Throwable cause) {
    return new StoreException(Code.LEASE_NOT_FOUND,
        "etcdserver: requested lease not found (lease " + lease + " expired or was revoked)", cause);
  }

  public Code code() {
    return code;
  }

  /**
   * Classifies a failure by etcd's message (the same words from kvd and etcd, whichever client
   * carried them), then by its gRPC-style status name.
   */
  static StoreException classify(String statusName, String message, Throwable cause) {
    String m = message == null ? "" : message;
    Code code;
    if (m.contains("required revision has been compacted")) {
      code = Code.COMPACTED;
    } else if (m.contains("required revision is a future revision")) {
      code = Code.FUTURE_REVISION;
    } else if (m.contains("requested lease not found")) {
      code = Code.LEASE_NOT_FOUND;
    } else {
      code = switch (statusName == null ? "" : statusName) {
        case "INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE", "RESOURCE_EXHAUSTED", "NOT_FOUND",
            "ALREADY_EXISTS", "PERMISSION_DENIED" -> Code.INVALID_REQUEST;
        case "DEADLINE_EXCEEDED" -> Code.TIMEOUT;
        default -> Code.UNAVAILABLE;
      };
    }
    return new StoreException(code, m.isEmpty() ? String.valueOf(cause) : m, cause);
  }

  /** The failure inside a future's wrapping. */
  static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
