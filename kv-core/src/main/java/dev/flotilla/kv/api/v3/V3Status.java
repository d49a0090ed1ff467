package dev.flotilla.kv.api.v3;

import dev.flotilla.kv.v3.V3Error;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** etcd's v3 errors as gRPC statuses, with etcd's exact messages (clients match on them). */
final class V3Status {
  static final String KEY_NOT_PROVIDED = "etcdserver: key is not provided";
  static final String VALUE_PROVIDED = "etcdserver: value is provided";
  static final String LEASE_PROVIDED = "etcdserver: lease is provided";
  static final String TOO_MANY_OPS = "etcdserver: too many operations in txn request";
  static final String DUPLICATE_KEY = "etcdserver: duplicate key given in txn request";
  static final String TOO_LARGE = "etcdserver: request is too large";

  private V3Status() {}

  static StatusRuntimeException of(String invalidArgument) {
    return of(V3Error.Code.INVALID_ARGUMENT, invalidArgument);
  }

  static StatusRuntimeException of(V3Error e) {
    return of(e.code(), e.getMessage());
  }

  static StatusRuntimeException of(V3Error.Code code, String message) {
    Status s = switch (code) {
      case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
      case NOT_FOUND -> Status.NOT_FOUND;
      case OUT_OF_RANGE -> Status.OUT_OF_RANGE;
      case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
      case RESOURCE_EXHAUSTED -> Status.RESOURCE_EXHAUSTED;
      case UNAVAILABLE -> Status.UNAVAILABLE;
      case PERMISSION_DENIED -> Status.PERMISSION_DENIED;
      case UNAUTHENTICATED -> Status.UNAUTHENTICATED;
    };
    return s.withDescription(message).asRuntimeException();
  }

  static StatusRuntimeException internal(Throwable t) {
    Throwable cause = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
    String msg = String.valueOf(cause.getMessage());
    return Status.UNAVAILABLE.withDescription(msg.startsWith("etcdserver: ") ? msg : "etcdserver: " + msg)
        .withCause(cause).asRuntimeException();
  }
}
