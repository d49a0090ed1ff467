package dev.flotilla.kv.server;

import dev.flotilla.kv.embed.KvConfig;
import dev.flotilla.proto.store.MemberRecord;
import dev.flotilla.proto.store.StoreCommand;
import dev.flotilla.raft.core.RaftConfig;
import dev.flotilla.raft.node.RaftNode;
import dev.flotilla.raft.node.RaftNodeOptions;
import dev.flotilla.raft.storage.WalLogStore;
import dev.flotilla.raft.transport.GrpcTransport;
import dev.flotilla.raft.transport.GrpcTransportOptions;
import dev.flotilla.raft.transport.Transport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the Raft side of a clustered member: the log store in {@code member/raft} (bootstrapped
 * with the founders on first start of a new cluster), the gRPC peer transport on the first
 * {@code --listen-peer-urls} address (TLS with the --peer-* files when given), and the node over the
 * store's state machine.
 */
final class RaftMember {
  private static final Logger log = LoggerFactory.getLogger(RaftMember.class);

  private RaftMember() {}

  static ReplicatedLog start(KvConfig cfg, MemberIdentity identity, Path raftDir, StoreStateMachine machine,
      StoreMetrics metrics, List<MemberRecord> newClusterFounders, Runnable onSelfRemoved,
      dev.flotilla.kv.tls.TlsCredentials peerTls, int peerLoops) throws IOException {
    WalLogStore logStore = WalLogStore.open(raftDir, WalLogStore.Options.defaults());
    logStore.onSync(nanos -> metrics.walFsync.observe(StoreMetrics.seconds(nanos)));
    try {
      List<MemberRecord> members = machine.members().list();
      if (!newClusterFounders.isEmpty() && logStore.isEmpty()) {
        Map<Long, MemberRecord> byId = new HashMap<>();
        newClusterFounders.forEach(m -> byId.put(m.getId(), m));
        List<Long> founders = new ArrayList<>(byId.keySet());
        founders.sort(Long::compareUnsigned); // every founder must write the same first entries
        // each founder's entry carries its record: the member list comes from the log, for every member
        logStore.bootstrap(founders, id -> StoreCommand.newBuilder().setMemberAdd(byId.get(id)).build().toByteArray());
        log.info("bootstrapped a new cluster of {} members", founders.size());
        members = newClusterFounders;
      }
      Map<Long, String> peers = new HashMap<>();
      for (MemberRecord m : members) {
        if (m.getId() != identity.memberId() && m.getPeerUrlsCount() > 0) {
          peers.put(m.getId(), hostPort(URI.create(m.getPeerUrls(0))));
        }
      }
      if (!cfg.initialCluster().isBlank() && members.isEmpty()) {
        // joining: the members come with the log; meanwhile reach the ones the flags name
        StoreMember.parseInitialCluster(cfg, identity.peerUrls()).forEach((name, urls) -> {
          long id = MemberIdentity.memberId(urls, cfg.initialClusterToken());
          if (id != identity.memberId()) {
            peers.put(id, hostPort(urls.get(0)));
          }
        });
      }
      if (cfg.listenPeerUrls().isEmpty()) {
        throw new IllegalArgumentException("a clustered member needs --listen-peer-urls");
      }
      URI listen = cfg.listenPeerUrls().get(0);
      int electionTicks = (int) Math.max(2, cfg.electionTimeoutMs() / cfg.heartbeatIntervalMs());
      RaftConfig raft = RaftConfig.defaults(identity.memberId(), RandomGenerator.getDefault())
          .withTicks(electionTicks, 1)
          .withPreVote(true)
          .withCheckQuorum(true)
          .withDeferCommitNotice(true); // under load a commit rides on the next append (bench/RESULTS.md, twelfth session)
      RaftNodeOptions options = RaftNodeOptions.of(raft)
          .withTick(Duration.ofMillis(cfg.heartbeatIntervalMs()))
          .withSnapshots(cfg.snapshotCount(), Math.min(cfg.snapshotCount(), 5_000));
      RaftNode[] started = new RaftNode[1];
      java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
      machine.members().onPeerUrls(added -> {
        if (added.getId() != identity.memberId() && added.getPeerUrlsCount() > 0 && started[0] != null) {
          started[0].transport().addPeer(added.getId(), hostPort(URI.create(added.getPeerUrls(0))));
        }
        log.info("member {} ({}) added or updated: peer URLs {}", MemberIdentity.hex(added.getId()),
            added.getName(), added.getPeerUrlsList());
      });
      ReplicatedLog.Applier applier = new ReplicatedLog.Applier(machine, metrics, removed -> {
        if (removed == identity.memberId()) {
          if (stopping.compareAndSet(false, true)) {
            log.warn("this member ({}) was removed from the cluster; it stops", MemberIdentity.hex(removed));
            onSelfRemoved.run();
          }
        } else {
          log.info("member {} removed from the cluster", MemberIdentity.hex(removed));
        }
      });
      RaftNode node = RaftNode.start(options, logStore, applier, handler -> {
        try {
          GrpcTransport t = GrpcTransport.start(identity.memberId(),
              new InetSocketAddress(listen.getHost(), listen.getPort()), peers, new Transport.Handler() {
                @Override
                public void receive(dev.flotilla.raft.core.Message m) {
                  handler.receive(m);
                }

                @Override
                public void unreachable(long peer) {
                  handler.unreachable(peer);
                }

                @Override
                public void snapshotStatus(long peer, boolean delivered) {
                  handler.snapshotStatus(peer, delivered);
                }

                @Override
                public void removedFromCluster(long peer) {
                  // a removed member never gets the entry that removes it: its peers tell it
                  if (stopping.compareAndSet(false, true)) {
                    log.warn("member {} says this member ({}) was removed from the cluster; it stops",
                        Long.toHexString(peer), MemberIdentity.hex(identity.memberId()));
                    onSelfRemoved.run();
                  }
                }
              }, GrpcTransportOptions.defaults().withEventLoops(peerLoops),
              peerTls == null ? io.grpc.InsecureServerCredentials.create() : peerTls.grpcServer(),
              peerTls == null ? io.grpc.InsecureChannelCredentials.create() : peerTls.grpcChannel());
          t.removedMembers(machine.members()::wasRemoved);
          return t;
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
      started[0] = node;
      // members added in entries applied before the node existed (replayed at start) need their address too
      for (MemberRecord m : machine.members().list()) {
        if (m.getId() != identity.memberId() && m.getPeerUrlsCount() > 0 && !peers.containsKey(m.getId())) {
          node.transport().addPeer(m.getId(), hostPort(URI.create(m.getPeerUrls(0))));
        }
      }
      log.info("member {} serving peers on {}, {} peers", MemberIdentity.hex(identity.memberId()), listen,
          peers.size());
      // etcd's ReqTimeout: 5 s plus two election timeouts (7 s with the defaults)
      Duration timeout = Duration.ofMillis(5_000 + 2L * cfg.electionTimeoutMs());
      try {
        return ReplicatedLog.over(node, applier, machine, timeout, metrics, logStore);
      } catch (RuntimeException e) {
        node.close(); // its loop applies to the store: stop it before the store closes
        throw e;
      }
    } catch (UncheckedIOException e) {
      logStore.close();
      throw e.getCause();
    } catch (IOException | RuntimeException e) {
      logStore.close();
      throw e;
    }
  }

  static String hostPort(URI u) {
    return u.getHost() + ":" + u.getPort();
  }
}
