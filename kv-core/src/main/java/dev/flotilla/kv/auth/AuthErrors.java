package dev.flotilla.kv.auth;

import dev.flotilla.kv.v3.V3Error;
import dev.flotilla.kv.v3.V3Error.Code;

/** etcd 3.4's auth errors (etcdserver/api/v3rpc/rpctypes/error.go): its gRPC codes and exact words. */
public final class AuthErrors {
  private AuthErrors() {}

  public static V3Error rootUserNotExist() {
    return new V3Error(Code.FAILED_PRECONDITION, "etcdserver: root user does not exist");
  }

  public static V3Error rootRoleNotExist() {
    return new V3Error(Code.FAILED_PRECONDITION, "etcdserver: root user does not have root role");
  }

  public static V3Error userAlreadyExist() {
    return new V3Error(Code.FAILED_PRECONDITION, "etcdserver: user name already exists");
  }

  public static V3Error userEmpty() {
    return new V3Error(Code.INVALID_ARGUMENT, "etcdserver: user name is empty");
  }

  public static V3Error userNotFound() {
    return new V3Error(Code.FAILED_PRECONDITION, "etcdserver: user name not found");
  }

  public static V3Error roleAlreadyExist() {
    return new V3Error(Code.FAILED_PRECONDITION, "etcdserver: role name already exists");
  }

  public static V3Error roleNotFound() {
    return new V3Error(Code.FAILED_PRECONDITION, "etcdserver: role name not found");
  }

  public static V3Error roleEmpty() {
    return new V3Error(Code.INVALID_ARGUMENT, "etcdserver: role name is empty");
  }

  public static V3Error authFailed() {
    return new V3Error(Code.INVALID_ARGUMENT, "etcdserver: authentication failed, invalid user ID or password");
  }

  public static V3Error permissionDenied() {
    return new V3Error(Code.PERMISSION_DENIED, "etcdserver: permission denied");
  }

  public static V3Error roleNotGranted() {
    return new V3Error(Code.FAILED_PRECONDITION, "etcdserver: role is not granted to the user");
  }

  public static V3Error permissionNotGranted() {
    return new V3Error(Code.FAILED_PRECONDITION, "etcdserver: permission is not granted to the role");
  }

  public static V3Error permissionNotGiven() {
    return new V3Error(Code.INVALID_ARGUMENT, "etcdserver: permission not given");
  }

  public static V3Error authNotEnabled() {
    return new V3Error(Code.FAILED_PRECONDITION, "etcdserver: authentication is not enabled");
  }

  public static V3Error invalidAuthToken() {
    return new V3Error(Code.UNAUTHENTICATED, "etcdserver: invalid auth token");
  }

  public static V3Error invalidAuthMgmt() {
    return new V3Error(Code.INVALID_ARGUMENT, "etcdserver: invalid auth management");
  }
}
