package dev.flotilla.kv.api.v3;

import dev.flotilla.kv.mvcc.ReadView;
import dev.flotilla.kv.server.ApplyOutcome;
import dev.flotilla.kv.server.StoreMember;
import dev.flotilla.kv.v3.V3Lessor;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseGrantRequest;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseCheckpoint;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseCheckpointRequest;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseGrantResponse;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseKeepAliveRequest;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseKeepAliveResponse;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseLeasesRequest;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseLeasesResponse;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseRevokeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseRevokeResponse;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseStatus;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseTimeToLiveRequest;
import dev.flotilla.proto.etcd.etcdserverpb.LeaseTimeToLiveResponse;
import dev.flotilla.proto.etcd.etcdserverpb.ResponseHeader;
import dev.flotilla.proto.store.StoreCommand;
import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.atomic.AtomicLong;

/**
 * etcd's Lease service. Grant and revoke go through the log; keep-alives renew the lease in
 * the leader's memory only (as etcd's lessor does); TimeToLive reads memory and the store.
 */
final class LeaseService extends LeaseGrpc.LeaseImplBase {
  private final StoreMember member;
  private final KvService kv;
  private final AtomicLong ids;

  LeaseService(StoreMember member, KvService kv) {
    this.member = member;
    this.kv = kv;
    // etcd's request-ID shape: member bits on top, time and a counter below; always positive
    this.ids = new AtomicLong(((member.identity().memberId() & 0xffffL) << 47)
        | ((System.currentTimeMillis() & 0xffffffffffL) << 7));
  }

  private V3Lessor lessor() {
    return member.machine().lessor();
  }

  private ResponseHeader header() {
    return kv.header(ResponseHeader.newBuilder().setRevision(member.store().revision()).build());
  }

  @Override
  public void leaseGrant(LeaseGrantRequest r, StreamObserver<LeaseGrantResponse> out) {
    LeaseGrantRequest withId = r.getID() != 0 ? r
        : r.toBuilder().setID(ids.incrementAndGet() & Long.MAX_VALUE).build();
    kv.propose(StoreCommand.newBuilder().setV3LeaseGrant(withId).build(), out,
        m -> ((LeaseGrantResponse) m).toBuilder().setHeader(kv.header(((LeaseGrantResponse) m).getHeader())).build());
  }

  @Override
  public void leaseRevoke(LeaseRevokeRequest r, StreamObserver<LeaseRevokeResponse> out) {
    kv.propose(StoreCommand.newBuilder().setV3LeaseRevoke(r).build(), out,
        m -> ((LeaseRevokeResponse) m).toBuilder().setHeader(kv.header(((LeaseRevokeResponse) m).getHeader())).build());
  }

  @Override
  public StreamObserver<LeaseKeepAliveRequest> leaseKeepAlive(StreamObserver<LeaseKeepAliveResponse> out) {
    return new StreamObserver<>() {
      @Override
      public void onNext(LeaseKeepAliveRequest r) {
        if (member.log().isLeader() || !lessor().exists(r.getID())) {
          reply(r.getID(), lessor().renew(r.getID(), member.nowNanos()));
          return;
        }
        // a follower: only the leader's clock decides expiry, so the renewal goes through the log
        // as a checkpoint of the full TTL, which every member applies to its own lease clock
        long ttl = lessor().grantedTtl(r.getID());
        var cp = LeaseCheckpointRequest.newBuilder().addCheckpoints(
            LeaseCheckpoint.newBuilder().setID(r.getID()).setRemainingTTL(ttl));
        member.log().propose(StoreCommand.newBuilder().setV3LeaseCheckpoint(cp).build().toByteArray())
            .whenComplete((o, err) -> {
              if (err != null) {
                synchronized (this) {
                  out.onError(V3Status.internal(err));
                }
              } else {
                reply(r.getID(), lessor().exists(r.getID()) ? ttl : 0);
              }
            });
      }

      private synchronized void reply(long id, long ttl) {
        out.onNext(LeaseKeepAliveResponse.newBuilder().setHeader(header()).setID(id).setTTL(ttl).build());
      }

      @Override
      public void onError(Throwable t) {
        // the client went away: nothing is held for it
      }

      @Override
      public void onCompleted() {
        synchronized (this) {
          out.onCompleted();
        }
      }
    };
  }

  @Override
  public void leaseTimeToLive(LeaseTimeToLiveRequest r, StreamObserver<LeaseTimeToLiveResponse> out) {
    var resp = LeaseTimeToLiveResponse.newBuilder().setHeader(header()).setID(r.getID());
    if (!lessor().exists(r.getID())) {
      resp.setTTL(-1); // etcd answers an unknown lease this way, not with an error
    } else {
      resp.setTTL(lessor().timeToLive(r.getID(), member.nowNanos())).setGrantedTTL(lessor().grantedTtl(r.getID()));
      if (r.getKeys()) {
        String user = AuthContext.currentUser();
        try (ReadView view = member.store().snapshot()) {
          for (byte[] k : V3Lessor.keys(view, r.getID())) {
            // etcd 3.5 (and 3.4.26+): the keys are shown only to who may read every one of them
            member.machine().auth().checkRange(user, ByteString.copyFrom(k), ByteString.EMPTY);
            resp.addKeys(ByteString.copyFrom(k));
          }
        } catch (dev.flotilla.kv.v3.V3Error e) {
          out.onError(V3Status.of(e));
          return;
        }
      }
    }
    out.onNext(resp.build());
    out.onCompleted();
  }

  @Override
  public void leaseLeases(LeaseLeasesRequest r, StreamObserver<LeaseLeasesResponse> out) {
    var resp = LeaseLeasesResponse.newBuilder().setHeader(header());
    for (long id : lessor().ids()) {
      resp.addLeases(LeaseStatus.newBuilder().setID(id));
    }
    out.onNext(resp.build());
    out.onCompleted();
  }
}
