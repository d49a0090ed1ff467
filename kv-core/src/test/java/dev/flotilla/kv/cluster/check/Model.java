package dev.flotilla.kv.cluster.check;

import java.util.List;

/**
 * A sequential specification of one key: what each operation, with the outcome the client saw,
 * does to the key's state. The checker asks it only questions about one key at a time.
 *
 * @param <S> the key's state; immutable, with value-based {@code equals}/{@code hashCode} (the
 *     checker memoises on it)
 */
public interface Model<S> {

  S initial();

  /**
   * Rejects operations this model cannot judge.
   *
   * @throws IllegalArgumentException naming the operation
   */
  void validate(Op op);

  /**
   * The state after {@code op} takes effect in {@code state}, or null if {@code op} with its recorded
   * outcome is impossible in {@code state}. For an op of unknown outcome this is the state if it
   * took effect (null if it could not); its not taking effect at all is the checker's business.
   */
  S step(S state, Op op);

  /**
   * True if {@code op}, whenever it fits a state, leaves that state as it was (a read, a CAS whose
   * compare failed). The checker then takes such an op as soon as it fits, without trying other
   * orders: a large saving when many reads overlap. Saying false is always safe. Default: false.
   */
  default boolean readOnly(Op op) {
    return false;
  }

  /**
   * Ops of unknown outcome in {@code partition} (one key's history) that can be left out because no
   * history that needs them exists: whatever they could explain, the history without them explains
   * too. Each unknown op left in stays a candidate at every step of the search, so leaving out the
   * ones nobody can observe keeps histories with many timeouts tractable. Default: none.
   */
  default List<Op> unobservable(List<Op> partition) {
    return List.of();
  }

  default String describe(S state) {
    return String.valueOf(state);
  }
}
