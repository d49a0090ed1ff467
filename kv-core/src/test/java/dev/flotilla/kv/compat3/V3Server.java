package dev.flotilla.kv.compat3;

import java.net.URI;

/** A server speaking etcd's v3 API, owned by one test: real etcd or kvd. */
interface V3Server extends AutoCloseable {
  /** Name used in reports: {@code etcd}, {@code etcd-control}, {@code kvd}. */
  String name();

  /** {@code http://127.0.0.1:<port>}: gRPC, the JSON gateway and v2 on one port. */
  URI clientUrl();

  URI peerUrl();

  /** Host and port of the client URL, as clients that take {@code host:port} want it. */
  default String hostPort() {
    return clientUrl().getHost() + ":" + clientUrl().getPort();
  }

  @Override
  void close();

  /** Starts {@code kind} ("etcd" or "kvd") as {@code name} with --quota-backend-bytes. */
  static V3Server start(String kind, String name, long quotaBackendBytes) {
    return switch (kind) {
      case "etcd" -> EtcdV3Server.start(name, quotaBackendBytes);
      case "kvd" -> KvdV3Server.start(name, quotaBackendBytes);
      default -> throw new IllegalArgumentException("unknown server kind " + kind + "; use etcd or kvd");
    };
  }

  /** Starts {@code kind} ("etcd" or "kvd") as {@code name}. */
  static V3Server start(String kind, String name) {
    return switch (kind) {
      case "etcd" -> EtcdV3Server.start(name);
      case "kvd" -> KvdV3Server.start(name);
      default -> throw new IllegalArgumentException("unknown server kind " + kind + "; use etcd or kvd");
    };
  }
}
