package dev.flotilla.kv.v2;

/** etcd's v2 error codes, with etcd's messages and HTTP statuses. */
public enum V2ErrorCode {
  KEY_NOT_FOUND(100, "Key not found", 404),
  TEST_FAILED(101, "Compare failed", 412),
  NOT_FILE(102, "Not a file", 403),
  NOT_DIR(104, "Not a directory", 400),
  NODE_EXIST(105, "Key already exists", 412),
  ROOT_READ_ONLY(107, "Root is read only", 400),
  DIR_NOT_EMPTY(108, "Directory not empty", 403),
  UNAUTHORIZED(110, "The request requires user authentication", 401),
  VALUE_REQUIRED(200, "Value is Required in POST form", 400),
  PREV_VALUE_REQUIRED(201, "PrevValue is Required in POST form", 400),
  TTL_NAN(202, "The given TTL in POST form is not a number", 400),
  INDEX_NAN(203, "The given index in POST form is not a number", 400),
  INVALID_FIELD(209, "Invalid field", 400),
  INVALID_FORM(210, "Invalid POST form", 400),
  REFRESH_VALUE(211, "Value provided on refresh", 400),
  REFRESH_TTL_REQUIRED(212, "A TTL must be provided on refresh", 400),
  RAFT_INTERNAL(300, "Raft Internal Error", 500),
  LEADER_ELECT(301, "During Leader Election", 500),
  WATCHER_CLEARED(400, "watcher is cleared due to etcd recovery", 400),
  EVENT_INDEX_CLEARED(401, "The event in requested index is outdated and cleared", 400);

  public final int code;
  public final String message;
  public final int httpStatus;

  V2ErrorCode(int code, String message, int httpStatus) {
    this.code = code;
    this.message = message;
    this.httpStatus = httpStatus;
  }
}
