package dev.flotilla.kv.api.v3;

import dev.flotilla.kv.server.StoreMember;
import dev.flotilla.proto.etcd.etcdserverpb.ClusterGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.Member;
import dev.flotilla.proto.etcd.etcdserverpb.MemberListRequest;
import dev.flotilla.proto.etcd.etcdserverpb.MemberListResponse;
import dev.flotilla.proto.etcd.etcdserverpb.ResponseHeader;
import io.grpc.stub.StreamObserver;
import java.net.URI;

/**
 * etcd's Cluster service. Membership changes come with replication; until then the list is
 * this one member and the change RPCs answer UNIMPLEMENTED.
 */
final class ClusterService extends ClusterGrpc.ClusterImplBase {
  private final StoreMember member;
  private final KvService headers;

  ClusterService(StoreMember member, KvService headers) {
    this.member = member;
    this.headers = headers;
  }

  @Override
  public void memberList(MemberListRequest r, StreamObserver<MemberListResponse> out) {
    var id = member.identity();
    Member.Builder m = Member.newBuilder().setID(id.memberId()).setName(id.name());
    id.peerUrls().forEach(u -> m.addPeerURLs(u.toString()));
    member.clientUrls().stream().map(URI::toString).forEach(m::addClientURLs);
    out.onNext(MemberListResponse.newBuilder()
        // etcd's cluster server fills the header without a revision
        .setHeader(headers.header(ResponseHeader.getDefaultInstance()))
        .addMembers(m).build());
    out.onCompleted();
  }
}
