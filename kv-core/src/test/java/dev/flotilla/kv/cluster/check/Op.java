package dev.flotilla.kv.cluster.check;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Objects;

/**
 * One client operation on one key, as a client saw it: when it was sent, when (if ever) the answer
 * came, what was asked and what was answered.
 *
 * <p>Times are {@link System#nanoTime()}-style readings of one clock shared by all clients of the
 * history. An operation whose outcome the client does not know (timeout, dropped connection, 5xx)
 * has {@code ret == }{@link #NEVER} and outcome {@link Outcome#UNKNOWN}: it may have taken effect at
 * any time after {@code call}, or never.
 *
 * @param id unique within a history (the recorder's invocation order)
 * @param client who issued it; informational only, the checker relies on the times alone
 * @param key the etcd key; keys are checked independently
 * @param kind what was asked
 * @param expected for {@link Kind#CAS}: the value the key had to hold ({@code prevValue}); else null
 * @param value for WRITE, CAS and CREATE: the value written; else null
 * @param call when the request was sent (read before sending)
 * @param ret when the answer was complete (read after receiving), or {@link #NEVER}
 * @param outcome OK, FAIL (CAS/CREATE/DELETE only: the precondition was observed false) or UNKNOWN
 * @param observed for an OK READ: the value read, null when the key was not found; else null
 */
// Saved histories leave out the null fields: a line says only what the op has.
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Op(int id, int client, String key, Kind kind, String expected, String value,
    long call, long ret, Outcome outcome, String observed) {

  /** The return time of an operation whose outcome is unknown: it is pending forever. */
  public static final long NEVER = Long.MAX_VALUE;

  public enum Kind {
    /** GET; output: the value or "not found". */
    READ,
    /** Unconditional PUT. */
    WRITE,
    /** PUT with {@code prevValue}: OK when the key held {@code expected}, FAIL (101/100) when not. */
    CAS,
    /** PUT with {@code prevExist=false}: OK when the key was absent, FAIL (105, already exists) when not. */
    CREATE,
    /** DELETE: OK when the key existed, FAIL (100, not found) when not. */
    DELETE
  }

  public enum Outcome { OK, FAIL, UNKNOWN }

  public Op {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(outcome, "outcome");
    boolean writesValue = kind == Kind.WRITE || kind == Kind.CAS || kind == Kind.CREATE;
    if (writesValue != (value != null)) {
      throw bad("value must be given exactly for WRITE, CAS and CREATE");
    }
    if ((kind == Kind.CAS) != (expected != null)) {
      throw bad("expected must be given exactly for CAS");
    }
    if (observed != null && !(kind == Kind.READ && outcome == Outcome.OK)) {
      throw bad("observed is only for an OK READ");
    }
    if (outcome == Outcome.FAIL && (kind == Kind.READ || kind == Kind.WRITE)) {
      throw bad("a " + kind + " cannot FAIL: record an error as UNKNOWN (or leave it out if it surely had no effect)");
    }
    if ((outcome == Outcome.UNKNOWN) != (ret == NEVER)) {
      throw bad("ret must be NEVER exactly when the outcome is UNKNOWN");
    }
    if (ret < call) {
      throw bad("returned before it was called");
    }
  }

  private IllegalArgumentException bad(String why) {
    return new IllegalArgumentException("op " + id + " (" + kind + " on " + key + "): " + why);
  }

  public boolean unknown() {
    return outcome == Outcome.UNKNOWN;
  }

  /** This op with an UNKNOWN outcome, as if the answer never came. */
  Op withUnknownOutcome() {
    return new Op(id, client, key, kind, expected, value, call, NEVER, Outcome.UNKNOWN, null);
  }

  /** {@code #7 c3 /k cas("a"->"b") FAIL [120..340]}, times relative to {@code origin}. */
  public String describe(long origin) {
    String what = switch (kind) {
      case READ -> "read()" + (outcome == Outcome.OK ? " -> " + show(observed) : "");
      case WRITE -> "write(" + show(value) + ")";
      case CAS -> "cas(" + show(expected) + " -> " + show(value) + ")";
      case CREATE -> "create(" + show(value) + ")";
      case DELETE -> "delete()";
    };
    String result = switch (outcome) {
      case OK -> kind == Kind.READ ? "" : " ok";
      case FAIL -> switch (kind) {
        case CAS -> " failed (compare)";
        case CREATE -> " failed (already exists)";
        default -> " failed (not found)";
      };
      case UNKNOWN -> " outcome unknown";
    };
    String until = ret == NEVER ? "inf)" : (ret - origin) + "]";
    return "#" + id + " c" + client + " " + key + " " + what + result + " [" + (call - origin) + ".." + until;
  }

  @Override
  public String toString() {
    return describe(0);
  }

  static String show(String v) {
    return v == null ? "<absent>" : '"' + v + '"';
  }
}
