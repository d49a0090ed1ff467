package dev.flotilla.kv.client;

import java.util.ArrayList;
import java.util.List;

/**
 * etcd's mini-transaction: if every compare holds, the {@code then} ops run, else the
 * {@code orElse} ops; atomically, in one revision. {@code Txn.when(c).then(op).orElse(op2)}.
 */
public record Txn(List<Compare> compares, List<Op> success, List<Op> failure) {
  public Txn {
    compares = List.copyOf(compares);
    success = List.copyOf(success);
    failure = List.copyOf(failure);
  }

  public static Txn when(Compare... compares) {
    return new Txn(List.of(compares), List.of(), List.of());
  }

  public Txn then(Op... ops) {
    return new Txn(compares, concat(success, ops), failure);
  }

  public Txn orElse(Op... ops) {
    return new Txn(compares, success, concat(failure, ops));
  }

  private static List<Op> concat(List<Op> a, Op[] b) {
    List<Op> out = new ArrayList<>(a);
    out.addAll(List.of(b));
    return out;
  }
}
