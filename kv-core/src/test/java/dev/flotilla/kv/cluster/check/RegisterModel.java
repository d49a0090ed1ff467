package dev.flotilla.kv.cluster.check;

import dev.flotilla.kv.cluster.check.Op.Kind;
import dev.flotilla.kv.cluster.check.Op.Outcome;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * One etcd v2 key as a register that starts absent.
 * {@link #register()} accepts reads and writes; {@link #casRegister()} also compare-and-swap
 * ({@code prevValue}), create-if-absent ({@code prevExist=false}) and delete.
 */
public final class RegisterModel implements Model<RegisterModel.Value> {

  /** The key's state: its value, or absent ({@code text == null}). */
  public record Value(String text) {
    public static final Value ABSENT = new Value(null);

    boolean present() {
      return text != null;
    }

    @Override
    public String toString() {
      return Op.show(text);
    }
  }

  private final String name;
  private final Set<Kind> kinds;

  private RegisterModel(String name, Set<Kind> kinds) {
    this.name = name;
    this.kinds = kinds;
  }

  /** Read and write. */
  public static RegisterModel register() {
    return new RegisterModel("register", EnumSet.of(Kind.READ, Kind.WRITE));
  }

  /** Read, write, compare-and-swap, create-if-absent and delete. */
  public static RegisterModel casRegister() {
    return new RegisterModel("cas-register", EnumSet.allOf(Kind.class));
  }

  @Override
  public Value initial() {
    return Value.ABSENT;
  }

  @Override
  public void validate(Op op) {
    if (!kinds.contains(op.kind())) {
      throw new IllegalArgumentException("the " + name + " model accepts " + kinds + ", not " + op
          + "; check CAS, CREATE and DELETE histories with RegisterModel.casRegister()");
    }
  }

  @Override
  public Value step(Value state, Op op) {
    boolean ok = op.outcome() != Outcome.FAIL; // OK, or UNKNOWN asked "if it took effect"
    return switch (op.kind()) {
      case READ -> Objects.equals(state.text(), op.observed()) ? state : null;
      case WRITE -> new Value(op.value());
      case CAS -> Objects.equals(state.text(), op.expected()) == ok
          ? (ok ? new Value(op.value()) : state) : null;
      case CREATE -> state.present() != ok ? (ok ? new Value(op.value()) : state) : null;
      case DELETE -> state.present() == ok ? Value.ABSENT : null;
    };
  }

  /** Reads, and CAS, create or delete answered FAIL: they only look at the key. */
  @Override
  public boolean readOnly(Op op) {
    return op.kind() == Kind.READ || op.outcome() == Outcome.FAIL;
  }

  /**
   * An unknown WRITE, CAS or CREATE of value v is left out when nothing can tell the key held v:
   * no read returned v, no CAS expected v, and there is no op that sees only "present" or
   * "not equal" (failed CAS, failed CREATE, successful or unknown DELETE). In any linearization that
   * uses it, only ops that change the value regardless of it (writes) can follow it before the value
   * changes again, so dropping it leaves a linearization. With only reads and writes (the plain
   * register) this is just "no read returned v".
   */
  @Override
  public List<Op> unobservable(List<Op> partition) {
    Set<String> seen = new HashSet<>();
    for (Op op : partition) {
      boolean weakObserver = switch (op.kind()) {
        case CAS, CREATE -> op.outcome() == Outcome.FAIL;
        case DELETE -> op.outcome() != Outcome.FAIL;
        default -> false;
      };
      if (weakObserver) {
        return List.of();
      }
      if (op.kind() == Kind.READ && op.outcome() == Outcome.OK && op.observed() != null) {
        seen.add(op.observed());
      } else if (op.kind() == Kind.CAS) {
        seen.add(op.expected());
      }
    }
    List<Op> out = new ArrayList<>();
    for (Op op : partition) {
      if (op.unknown() && op.value() != null && !seen.contains(op.value())) {
        out.add(op);
      }
    }
    return out;
  }

  @Override
  public String describe(Value state) {
    return state.toString();
  }

  @Override
  public String toString() {
    return name;
  }
}
