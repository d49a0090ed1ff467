package dev.flotilla.kv.client;

import com.google.protobuf.ByteString;

/**
 * A condition of a {@link Txn} on one key, as etcd decides it: a missing key has value none (a
 * value comparison is false), and version, create and mod revision 0 — so
 * {@code modRevision(key, EQUAL, 0)} means "absent".
 */
public record Compare(ByteString key, Target target, Result result, long number, ByteString value) {

  public enum Target { VALUE, VERSION, CREATE_REVISION, MOD_REVISION }

  public enum Result { EQUAL, NOT_EQUAL, GREATER, LESS }

  public static Compare value(ByteString key, Result result, ByteString value) {
    return new Compare(key, Target.VALUE, result, 0, value);
  }

  public static Compare version(ByteString key, Result result, long version) {
    return new Compare(key, Target.VERSION, result, version, ByteString.EMPTY);
  }

  public static Compare createRevision(ByteString key, Result result, long revision) {
    return new Compare(key, Target.CREATE_REVISION, result, revision, ByteString.EMPTY);
  }

  public static Compare modRevision(ByteString key, Result result, long revision) {
    return new Compare(key, Target.MOD_REVISION, result, revision, ByteString.EMPTY);
  }

  /** The key is still at {@code modRevision} (0: still absent): the compare-and-set guard. */
  public static Compare unchanged(ByteString key, long modRevision) {
    return modRevision(key, Result.EQUAL, modRevision);
  }

  public static Compare absent(ByteString key) {
    return unchanged(key, 0);
  }
}
