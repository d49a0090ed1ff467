package dev.flotilla.kv.v3;

/**
 * An etcd v3 error: the gRPC status code and etcd's exact message, which clients match on
 * (e.g. "etcdserver: mvcc: required revision has been compacted").
 */
public final class V3Error extends Exception {
  /** gRPC status codes used by etcd's v3 errors. */
  public enum Code { INVALID_ARGUMENT, NOT_FOUND, OUT_OF_RANGE, FAILED_PRECONDITION, RESOURCE_EXHAUSTED, UNAVAILABLE,
    PERMISSION_DENIED, UNAUTHENTICATED }

  private final Code code;

  public V3Error(Code code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public Code code() {
    return code;
  }

  public static V3Error compacted() {
    return new V3Error(Code.OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted");
  }

  public static V3Error futureRevision() {
    return new V3Error(Code.OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision");
  }

  public static V3Error keyNotFound() {
    return new V3Error(Code.INVALID_ARGUMENT, "etcdserver: key not found");
  }

  /** The NOSPACE alarm is raised, or this write would take the store past --quota-backend-bytes. */
  public static V3Error noSpace() {
    return new V3Error(Code.RESOURCE_EXHAUSTED, "etcdserver: mvcc: database space exceeded");
  }

  public static V3Error leaseNotFound() {
    return new V3Error(Code.NOT_FOUND, "etcdserver: requested lease not found");
  }
}
