package dev.flotilla.kv.api.v2;

import dev.flotilla.kv.v2.V2Error;
import dev.flotilla.kv.v2.V2ErrorCode;
import dev.flotilla.kv.v2.V2Path;
import dev.flotilla.proto.store.V2Method;
import dev.flotilla.proto.store.V2Write;

/**
 * A parsed v2 keys request, following etcd's parseKeyRequest check for check, so that bad
 * input gets the same error code and cause as from etcd.
 */
record V2KeyRequest(
    String method,
    String path,
    String value,
    boolean dir,
    String prevValue,
    long prevIndex,
    Boolean prevExist,
    boolean waitFor,
    long waitIndex,
    boolean recursive,
    boolean sorted,
    boolean quorum,
    boolean stream,
    boolean noValueOnSuccess,
    Long ttl,
    boolean refresh) {

  /**
   * @param method  HTTP method
   * @param keyPath the byte-string path after "/v2/keys"
   */
  static V2KeyRequest parse(String method, String keyPath, V2Form form) throws V2Error {
    long prevIndex = form.uint("prevIndex", V2ErrorCode.INDEX_NAN, "invalid value for \"prevIndex\"");
    long waitIndex = form.uint("waitIndex", V2ErrorCode.INDEX_NAN, "invalid value for \"waitIndex\"");
    boolean recursive = form.flag("recursive");
    boolean sorted = form.flag("sorted");
    boolean wait = form.flag("wait");
    boolean dir = form.flag("dir");
    boolean quorum = form.flag("quorum");
    boolean stream = form.flag("stream");
    if (wait && !method.equals("GET")) {
      throw V2Error.request(V2ErrorCode.INVALID_FIELD, "\"wait\" can only be used with GET requests");
    }
    String prevValue = form.value("prevValue");
    if (form.has("prevValue") && prevValue.isEmpty()) {
      throw V2Error.request(V2ErrorCode.PREV_VALUE_REQUIRED, "\"prevValue\" cannot be empty");
    }
    boolean noValueOnSuccess = form.flag("noValueOnSuccess");
    Long ttl = null;
    if (!form.value("ttl").isEmpty()) {
      ttl = V2Form.parseUint(form.value("ttl"), V2ErrorCode.TTL_NAN, "invalid value for \"ttl\"");
    }
    Boolean prevExist = form.bool("prevExist", V2ErrorCode.INVALID_FIELD, "invalid value for prevExist");
    Boolean refresh = form.bool("refresh", V2ErrorCode.INVALID_FIELD, "invalid value for refresh");
    if (refresh != null && refresh) {
      if (form.has("value") && !form.value("value").isEmpty()) {
        throw V2Error.request(V2ErrorCode.REFRESH_VALUE, "A value was provided on a refresh");
      }
      if (ttl == null) {
        throw V2Error.request(V2ErrorCode.REFRESH_TTL_REQUIRED, "No TTL value set");
      }
    }
    return new V2KeyRequest(method, keyPath, form.value("value"), dir, prevValue, prevIndex,
        prevExist, wait, waitIndex, recursive, sorted, quorum, stream, noValueOnSuccess, ttl,
        refresh != null && refresh);
  }

  /** The store command of a write, with expiry computed from the proposer's clock. */
  V2Write toWrite(long nowNanos) {
    V2Write.Builder b = V2Write.newBuilder()
        .setMethod(switch (method) {
          case "PUT" -> V2Method.V2_PUT;
          case "POST" -> V2Method.V2_POST;
          case "DELETE" -> V2Method.V2_DELETE;
          default -> throw new IllegalArgumentException("not a write: " + method);
        })
        .setPath(V2Path.clean(path))
        .setValue(value)
        .setDir(dir)
        .setPrevValue(prevValue)
        .setPrevIndex(prevIndex)
        .setRefresh(refresh)
        .setRecursive(recursive)
        .setNoValueOnSuccess(noValueOnSuccess)
        .setNowUnixNanos(nowNanos);
    if (prevExist != null) {
      b.setHasPrevExist(true).setPrevExist(prevExist);
    }
    if (ttl != null) {
      b.setHasTtl(true).setExpireAtUnixNanos(expireAt(nowNanos, ttl));
    }
    return b.build();
  }

  /** 2000-01-01T00:00:00Z: etcd treats expiry instants before it as "no TTL". */
  static final long MIN_EXPIRE_NANOS = 946_684_800L * 1_000_000_000L;

  /**
   * now + ttl seconds with Go's int64 arithmetic, overflow included, as etcd computes it
   * ({@code time.Duration(ttl) * time.Second}); an instant before 2000 means no TTL (0).
   */
  static long expireAt(long nowNanos, long ttlSeconds) {
    long exp = nowNanos + ttlSeconds * 1_000_000_000L;
    return exp < MIN_EXPIRE_NANOS ? 0 : exp;
  }
}
