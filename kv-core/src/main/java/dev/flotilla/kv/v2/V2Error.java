package dev.flotilla.kv.v2;

/**
 * A v2 API error as etcd reports it: {@code {errorCode, message, cause, index}}. Causes hold
 * key paths as byte strings (see {@link V2Path}); the JSON writer turns them into text.
 */
public final class V2Error extends Exception {
  private final V2ErrorCode code;
  private final String errorCause;
  private final long index;
  private final int httpStatus;

  public V2Error(V2ErrorCode code, String cause, long index) {
    this(code, cause, index, code.httpStatus);
  }

  private V2Error(V2ErrorCode code, String cause, long index, int httpStatus) {
    super(code.message + (cause.isEmpty() ? "" : " (" + cause + ")"), null, false, false);
    this.code = code;
    this.errorCause = cause;
    this.index = index;
    this.httpStatus = httpStatus;
  }

  /**
   * A request over --max-request-bytes: etcd's words ("etcdserver: request is too large",
   * code 300) with the status that tells a client not to retry it, 413.
   */
  public static V2Error tooLarge(long index) {
    return new V2Error(V2ErrorCode.RAFT_INTERNAL, "etcdserver: request is too large", index, 413);
  }

  public int httpStatus() {
    return httpStatus;
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
