package dev.flotilla.kv.api.v3;

import dev.flotilla.kv.server.StoreMember;
import dev.flotilla.proto.etcd.etcdserverpb.RangeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.StatusRequest;
import dev.flotilla.proto.store.MemberRecord;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * etcd 3.4's rule for a learner: it answers Status and serializable Range only; every other call,
 * and every stream, gets "etcdserver: rpc not supported for learner" (Unavailable), so clients go
 * to a voting member.
 */
final class LearnerGuard implements ServerInterceptor {
  static final String NOT_SUPPORTED = "etcdserver: rpc not supported for learner";

  private final StoreMember member;

  LearnerGuard(StoreMember member) {
    this.member = member;
  }

  private boolean learner() {
    MemberRecord self = member.machine().members().get(member.identity().memberId());
    return self != null && self.getLearner();
  }

  static boolean allowed(Object request) {
    return request instanceof StatusRequest
        || request instanceof RangeRequest r && r.getSerializable();
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    if (!learner()) {
      return next.startCall(call, headers);
    }
    if (!call.getMethodDescriptor().getType().clientSendsOneMessage()) {
      call.close(Status.UNAVAILABLE.withDescription(NOT_SUPPORTED), new Metadata());
      return new ServerCall.Listener<>() { };
    }
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
      private boolean refused;

      @Override
      public void onMessage(Q message) {
        if (allowed(message)) {
          super.onMessage(message);
        } else {
          refused = true;
          call.close(Status.UNAVAILABLE.withDescription(NOT_SUPPORTED), new Metadata());
        }
      }

      @Override
      public void onHalfClose() {
        if (!refused) {
          super.onHalfClose();
        }
      }
    };
  }
}
