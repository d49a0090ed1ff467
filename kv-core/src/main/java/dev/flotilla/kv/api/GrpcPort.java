package dev.flotilla.kv.api;

import java.net.InetSocketAddress;

/**
 * Where the client port sends the gRPC connections it detects: handed over whole to the gRPC
 * server when it can take the socket, else relayed byte for byte to its loopback address.
 */
public interface GrpcPort {
  /** The gRPC server's own (loopback) address, for relayed connections. */
  InetSocketAddress address();

  /** Whether {@link #adopt} can take sockets (the gRPC server runs on epoll). */
  boolean adopts();

  /**
   * Takes over the connected socket {@code fd} (closing it when done), whose first bytes
   * {@code read} were already read from it.
   */
  void adopt(int fd, byte[] read);
}
