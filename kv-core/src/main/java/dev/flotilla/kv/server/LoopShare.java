package dev.flotilla.kv.server;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Predicate;

/**
 * How many event loops each of a member's network loop groups has: the client port's HTTP/1.1
 * loops (the v2 API, the gateway), the gRPC server's loops (v3 clients) and the Raft peer
 * transport's. It is this member's share of the host's cores, {@code max(1, cores / members)},
 * where members counts those of the initial cluster with a peer URL on this host. A member alone
 * on its machine gets one loop per core; three members on a 2-core machine get one each, so a
 * loop's epoll wake-up finds many ready connections instead of several loops per member waking
 * for a few each on cores that the other members' loops, Raft and apply threads want too
 * (bench/RESULTS.md, fourteenth session for HTTP/1.1, fifteenth for gRPC and the peers).
 * {@value #PROPERTY} (system property) or {@value #ENV} (environment) sets the count instead.
 */
public record LoopShare(int count, String why) {
  public static final String PROPERTY = "flotilla.client-loops";
  public static final String ENV = "KVD_CLIENT_LOOPS";

  public LoopShare {
    if (count < 1) {
      throw new IllegalArgumentException("event loops must be at least 1, got " + count);
    }
  }

  /** For a member of {@code initialCluster} (etcd's "name=peerURL,..."; blank: a member alone). */
  public static LoopShare forMember(String initialCluster) {
    String override = System.getProperty(PROPERTY);
    String from = "-D" + PROPERTY;
    if (override == null) {
      override = System.getenv(ENV);
      from = ENV;
    }
    return choose(Runtime.getRuntime().availableProcessors(),
        membersOnHost(initialCluster, LoopShare::isLocal), override, from);
  }

  /** The share rule, or {@code override} (from {@code from}, named in errors) when set. */
  static LoopShare choose(int cores, int membersOnHost, String override, String from) {
    if (override != null && !override.isBlank()) {
      int n;
      try {
        n = Integer.parseInt(override.trim());
      } catch (NumberFormatException e) {
        n = 0;
      }
      if (n < 1) {
        throw new IllegalArgumentException(from + "=" + override
            + ": the number of event loops must be a positive integer");
      }
      return new LoopShare(n, "set by " + from);
    }
    int members = Math.max(1, membersOnHost);
    return new LoopShare(Math.max(1, cores / members),
        cores + " cores, " + members + (members == 1 ? " member" : " members") + " on this host");
  }

  /**
   * Members of {@code initialCluster} with at least one peer URL whose host {@code local} accepts;
   * at least 1 (this member). A name may repeat, one URL each, as in etcd's flag.
   */
  static int membersOnHost(String initialCluster, Predicate<String> local) {
    if (initialCluster == null || initialCluster.isBlank()) {
      return 1;
    }
    Set<String> names = new HashSet<>();
    for (String part : initialCluster.split(",")) {
      int eq = part.indexOf('=');
      if (eq <= 0) {
        continue; // StoreMember refuses a malformed entry with its own message
      }
      String host;
      try {
        host = URI.create(part.substring(eq + 1).trim()).getHost();
      } catch (IllegalArgumentException e) {
        continue;
      }
      if (host != null && local.test(host)) {
        names.add(part.substring(0, eq).trim());
      }
    }
    return Math.max(1, names.size());
  }

  /** True when {@code host} names a loopback address or one of this machine's interfaces. */
  static boolean isLocal(String host) {
    try {
      for (InetAddress a : InetAddress.getAllByName(host)) {
        if (a.isLoopbackAddress() || a.isAnyLocalAddress() || NetworkInterface.getByInetAddress(a) != null) {
          return true;
        }
      }
      return false;
    } catch (UnknownHostException | SocketException e) {
      return false; // a peer we cannot resolve now is not counted: the share errs toward more loops
    }
  }
}
