package dev.flotilla.kv.v2;

/**
 * A v2 event: the answer to a write or a read, and what watchers receive. {@code index} is the
 * event's own index (the revision it made; for reads the node's modified index);
 * {@code etcdIndex} is the store index reported in X-Etcd-Index.
 */
public record V2Event(String action, V2Node node, V2Node prevNode, long index, long etcdIndex,
    boolean refresh) {

  public static final String GET = "get";
  public static final String CREATE = "create";
  public static final String SET = "set";
  public static final String UPDATE = "update";
  public static final String DELETE = "delete";
  public static final String COMPARE_AND_SWAP = "compareAndSwap";
  public static final String COMPARE_AND_DELETE = "compareAndDelete";
  public static final String EXPIRE = "expire";

  /** etcd answers 201 Created for create, and for a set that made a new key. */
  public boolean isCreated() {
    return action.equals(CREATE) || (action.equals(SET) && prevNode == null);
  }

  public V2Event withEtcdIndex(long i) {
    return new V2Event(action, node, prevNode, index, i, refresh);
  }
}
