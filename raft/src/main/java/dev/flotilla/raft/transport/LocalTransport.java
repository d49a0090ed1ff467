package dev.flotilla.raft.transport;

import dev.flotilla.raft.core.Message;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The in-memory twin of {@link GrpcTransport}, for tests of code above Raft (a {@code RaftNode}
 * cluster without sockets). Messages are handed straight to the recipient's handler on the sending
 * thread; the same rules apply: nothing goes to or is accepted from a member outside the peer set,
 * and a recipient that is absent or cut off is reported unreachable. Snapshots go whole.
 */
public final class LocalTransport implements Transport {

  /** The members of one in-memory cluster. */
  public static final class Network {
    private final Map<Long, LocalTransport> members = new ConcurrentHashMap<>();
    private final Set<Long> isolated = ConcurrentHashMap.newKeySet();

    /** Attaches member {@code id}; its peer set starts with {@code peers}. */
    public LocalTransport join(long id, Set<Long> peers, Handler handler) {
      LocalTransport t = new LocalTransport(this, id, handler);
      t.peers.addAll(peers);
      if (members.putIfAbsent(id, t) != null) {
        throw new IllegalStateException("member " + id + " is already on this network");
      }
      return t;
    }

    /** Cuts {@code id} off from everyone (or reconnects it). */
    public void isolate(long id, boolean cutOff) {
      if (cutOff) {
        isolated.add(id);
      } else {
        isolated.remove(id);
      }
    }
  }

  private final Network network;
  private final long self;
  private final Handler handler;
  private final Set<Long> peers = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private LocalTransport(Network network, long self, Handler handler) {
    this.network = network;
    this.self = self;
    this.handler = handler;
  }

  @Override
  public void send(List<Message> messages) {
    for (Message m : messages) {
      if (closed || !peers.contains(m.to())) {
        continue;
      }
      LocalTransport target = network.members.get(m.to());
      boolean delivered = target != null && !target.closed && target.peers.contains(self)
          && !network.isolated.contains(self) && !network.isolated.contains(m.to());
      if (delivered) {
        target.handler.receive(m);
      } else {
        handler.unreachable(m.to());
      }
      if (m instanceof Message.InstallSnapshot) {
        handler.snapshotStatus(m.to(), delivered);
      }
    }
  }

  @Override
  public void addPeer(long id, String address) {
    peers.add(id);
  }

  @Override
  public void removePeer(long id) {
    peers.remove(id);
  }

  @Override
  public Set<Long> peers() {
    return new TreeSet<>(peers);
  }

  @Override
  public void close() {
    closed = true;
    network.members.remove(self, this);
  }
}
