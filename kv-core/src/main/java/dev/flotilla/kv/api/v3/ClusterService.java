package dev.flotilla.kv.api.v3;

import dev.flotilla.kv.server.Reconfiguration;
import dev.flotilla.kv.server.StoreMember;
import dev.flotilla.proto.etcd.etcdserverpb.ClusterGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.Member;
import dev.flotilla.proto.etcd.etcdserverpb.MemberAddRequest;
import dev.flotilla.proto.etcd.etcdserverpb.MemberAddResponse;
import dev.flotilla.proto.etcd.etcdserverpb.MemberListRequest;
import dev.flotilla.proto.etcd.etcdserverpb.MemberListResponse;
import dev.flotilla.proto.etcd.etcdserverpb.MemberPromoteRequest;
import dev.flotilla.proto.etcd.etcdserverpb.MemberPromoteResponse;
import dev.flotilla.proto.etcd.etcdserverpb.MemberRemoveRequest;
import dev.flotilla.proto.etcd.etcdserverpb.MemberRemoveResponse;
import dev.flotilla.proto.etcd.etcdserverpb.MemberUpdateRequest;
import dev.flotilla.proto.etcd.etcdserverpb.MemberUpdateResponse;
import dev.flotilla.proto.etcd.etcdserverpb.ResponseHeader;
import dev.flotilla.proto.store.MemberRecord;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/**
 * etcd's Cluster service over the store's membership ({@link Reconfiguration}: the same Raft conf
 * changes as {@code /v2/members}). The leader carries a change out; another member relays the call
 * to the leader's client URL ({@link LeaderRelay}) and returns its answer, as etcd's followers
 * propose through their leader.
 */
final class ClusterService extends ClusterGrpc.ClusterImplBase {
  private final StoreMember member;
  private final KvService headers;
  private final Reconfiguration reconfiguration;
  private final LeaderRelay relay;

  ClusterService(StoreMember member, KvService headers, LeaderRelay relay) {
    this.member = member;
    this.headers = headers;
    this.reconfiguration = new Reconfiguration(member);
    this.relay = relay;
  }

  @Override
  public void memberList(MemberListRequest r, StreamObserver<MemberListResponse> out) {
    out.onNext(MemberListResponse.newBuilder()
        // etcd's cluster server fills the header without a revision
        .setHeader(header())
        .addAllMembers(members()).build());
    out.onCompleted();
  }

  @Override
  public void memberAdd(MemberAddRequest r, StreamObserver<MemberAddResponse> out) {
    List<URI> urls = peerUrlsOrRefuse(r.getPeerURLsList(), out);
    if (urls == null) {
      return;
    }
    change(out, s -> s.memberAdd(r), () -> reconfiguration.add(urls, r.getIsLearner()),
        rec -> MemberAddResponse.newBuilder().setHeader(header()).setMember(toMember(rec))
            .addAllMembers(members()).build());
  }

  /** The request's peer URLs; null after answering INVALID_ARGUMENT when one is not a URL. */
  private static List<URI> peerUrlsOrRefuse(List<String> given, StreamObserver<?> out) {
    try {
      return peerUrls(given);
    } catch (IllegalArgumentException e) {
      out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
      return null;
    }
  }

  @Override
  public void memberRemove(MemberRemoveRequest r, StreamObserver<MemberRemoveResponse> out) {
    change(out, s -> s.memberRemove(r), () -> reconfiguration.remove(r.getID()),
        v -> MemberRemoveResponse.newBuilder().setHeader(header()).addAllMembers(members()).build());
  }

  @Override
  public void memberUpdate(MemberUpdateRequest r, StreamObserver<MemberUpdateResponse> out) {
    List<URI> urls = peerUrlsOrRefuse(r.getPeerURLsList(), out);
    if (urls == null) {
      return;
    }
    change(out, s -> s.memberUpdate(r), () -> reconfiguration.update(r.getID(), urls),
        rec -> MemberUpdateResponse.newBuilder().setHeader(header()).addAllMembers(members()).build());
  }

  @Override
  public void memberPromote(MemberPromoteRequest r, StreamObserver<MemberPromoteResponse> out) {
    change(out, s -> s.memberPromote(r), () -> reconfiguration.promote(r.getID()),
        rec -> MemberPromoteResponse.newBuilder().setHeader(header()).addAllMembers(members()).build());
  }

  /**
   * Carries a change out here when this member leads, else relays the call to the leader; a
   * refusal becomes etcd's status and message.
   */
  private <T, R> void change(StreamObserver<R> out,
      Function<ClusterGrpc.ClusterFutureStub, com.google.common.util.concurrent.ListenableFuture<R>> remote,
      java.util.function.Supplier<CompletableFuture<T>> local, Function<T, R> answer) {
    var raft = member.replicatedLog();
    if (raft != null && !raft.isLeader()) {
      relay.call(member, ClusterGrpc::newFutureStub, remote).whenComplete((resp, err) -> {
        if (err != null) {
          out.onError(failure(err));
        } else {
          out.onNext(resp);
          out.onCompleted();
        }
      });
      return;
    }
    CompletableFuture<T> f;
    try {
      f = local.get();
    } catch (RuntimeException e) {
      out.onError(failure(e));
      return;
    }
    f.whenComplete((v, err) -> {
      if (err != null) {
        out.onError(failure(err));
      } else {
        out.onNext(answer.apply(v));
        out.onCompleted();
      }
    });
  }

  static StatusRuntimeException failure(Throwable err) {
    Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
    if (cause instanceof StatusRuntimeException s) {
      return s;
    }
    if (cause instanceof Reconfiguration.RefusedException r) {
      Status code = switch (r.refusal()) {
        case MEMBER_NOT_FOUND -> Status.NOT_FOUND;
        case UNHEALTHY -> Status.UNAVAILABLE;
        default -> Status.FAILED_PRECONDITION;
      };
      return code.withDescription(r.getMessage()).asRuntimeException();
    }
    if (cause instanceof java.util.concurrent.TimeoutException) {
      return Status.UNAVAILABLE.withDescription("etcdserver: request timed out").asRuntimeException();
    }
    return V3Status.internal(cause);
  }

  private ResponseHeader header() {
    return headers.header(ResponseHeader.getDefaultInstance());
  }

  private List<Member> members() {
    List<Member> out = new ArrayList<>();
    for (MemberRecord m : reconfiguration.members()) {
      out.add(toMember(m));
    }
    return out;
  }

  static Member toMember(MemberRecord m) {
    return Member.newBuilder().setID(m.getId()).setName(m.getName())
        .addAllPeerURLs(m.getPeerUrlsList()).addAllClientURLs(m.getClientUrlsList())
        .setIsLearner(m.getLearner()).build();
  }

  /** etcd's types.NewURLs check: absolute http(s) URLs with a host and port, nothing else. */
  static List<URI> peerUrls(List<String> given) {
    if (given.isEmpty()) {
      throw new IllegalArgumentException("etcdserver: given member URLs are invalid");
    }
    List<URI> urls = new ArrayList<>();
    for (String s : given) {
      try {
        URI u = new URI(s);
        if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null
            || u.getPort() < 0 || (u.getPath() != null && !u.getPath().isEmpty())) {
          throw new IllegalArgumentException("etcdserver: given member URLs are invalid");
        }
        urls.add(u);
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("etcdserver: given member URLs are invalid");
      }
    }
    return urls;
  }
}
