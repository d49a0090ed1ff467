package dev.flotilla.kv.api.v3;

import dev.flotilla.kv.server.StoreMember;
import dev.flotilla.proto.etcd.etcdserverpb.AlarmRequest;
import dev.flotilla.proto.etcd.etcdserverpb.AlarmResponse;
import dev.flotilla.proto.etcd.etcdserverpb.MaintenanceGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.ResponseHeader;
import dev.flotilla.proto.etcd.etcdserverpb.StatusRequest;
import dev.flotilla.proto.etcd.etcdserverpb.StatusResponse;
import io.grpc.stub.StreamObserver;

/** etcd's Maintenance service: Status and Alarm (no alarms are raised yet). */
final class MaintenanceService extends MaintenanceGrpc.MaintenanceImplBase {
  static final String VERSION = "3.4.23";

  private final StoreMember member;
  private final KvService headers;

  MaintenanceService(StoreMember member, KvService headers) {
    this.member = member;
    this.headers = headers;
  }

  private ResponseHeader header() {
    return headers.header(ResponseHeader.newBuilder().setRevision(member.store().revision()).build());
  }

  @Override
  public void status(StatusRequest r, StreamObserver<StatusResponse> out) {
    out.onNext(StatusResponse.newBuilder()
        .setHeader(header())
        .setVersion(VERSION)
        .setDbSize(member.store().sizeBytes())
        .setDbSizeInUse(member.store().liveBytes())
        .setLeader(member.identity().memberId())
        .setRaftIndex(member.log().committedIndex())
        .setRaftTerm(member.log().term())
        .setRaftAppliedIndex(member.store().appliedIndex())
        .build());
    out.onCompleted();
  }

  @Override
  public void alarm(AlarmRequest r, StreamObserver<AlarmResponse> out) {
    // etcd applies Alarm through the log and answers without a header
    out.onNext(AlarmResponse.getDefaultInstance());
    out.onCompleted();
  }
}
