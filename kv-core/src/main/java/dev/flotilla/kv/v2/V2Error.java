package dev.flotilla.kv.v2;

/**
 * A v2 API error as etcd reports it: {@code {errorCode, message, cause, index}}. Causes hold
 * key paths as byte strings (see {@link V2Path}); the JSON writer turns them into text.
 */
public final class V2Error extends Exception {
  private final V2ErrorCode code;
  private final String errorCause;
  private final long index;

  public V2Error(V2ErrorCode code, String cause, long index) {
    super(code.message + (cause.isEmpty() ? "" : " (" + cause + ")"), null, false, false);
    this.code = code;
    this.errorCause = cause;
    this.index = index;
  }

  /** An error found while parsing the request, before the store was consulted: index 0. */
  public static V2Error request(V2ErrorCode code, String cause) {
    return new V2Error(code, cause, 0);
  }

  public V2ErrorCode code() {
    return code;
  }

  public String errorCause() {
    return errorCause;
  }

  public long index() {
    return index;
  }
}
