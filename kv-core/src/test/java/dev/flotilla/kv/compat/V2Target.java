package dev.flotilla.kv.compat;

import java.net.URI;

/**
 * A server that speaks the etcd v2 HTTP API, owned by one test: real etcd ({@link EtcdProcess})
 * or kvd ({@code KvdTarget}). {@link #close()} ends it and frees what it holds.
 */
interface V2Target extends AutoCloseable {

  /** Short name used in reports: {@code etcd}, {@code etcd-b}, {@code kvd}. */
  String name();

  /** Base URL of the client API, {@code http://127.0.0.1:<port>}, no trailing slash. */
  URI clientUrl();

  @Override
  void close();
}
