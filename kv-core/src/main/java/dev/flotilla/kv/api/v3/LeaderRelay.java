package dev.flotilla.kv.api.v3;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import dev.flotilla.kv.server.StoreMember;
import dev.flotilla.proto.store.MemberRecord;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.AbstractStub;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Calls the leader's v3 services over gRPC (its first advertised client URL), for requests only the
 * leader carries out. One channel per leader URL, kept until {@link #close}.
 */
final class LeaderRelay implements AutoCloseable {
  private static final long DEADLINE_SECONDS = 15;

  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

  <S extends AbstractStub<S>, R> CompletableFuture<R> call(StoreMember member, Function<Channel, S> stub,
      Function<S, ListenableFuture<R>> rpc) {
    MemberRecord lead = member.machine().members().get(member.leaderId());
    if (lead == null || lead.getClientUrlsCount() == 0) {
      return CompletableFuture.failedFuture(
          Status.UNAVAILABLE.withDescription("etcdserver: no leader").asRuntimeException());
    }
    URI url = URI.create(lead.getClientUrls(0));
    ManagedChannel ch = channels.computeIfAbsent(url.getScheme() + "://" + url.getHost() + ":" + url.getPort(),
        key -> channel(member, url));
    CompletableFuture<R> out = new CompletableFuture<>();
    S s = stub.apply(ch).withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
    AuthContext caller = AuthContext.current();
    if (caller != null && caller.token() != null) {
      // the caller's simple token: every member assigned it when it applied its Authenticate
      io.grpc.Metadata md = new io.grpc.Metadata();
      md.put(AuthInterceptor.TOKEN, caller.token());
      s = s.withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(md));
    }
    Futures.addCallback(rpc.apply(s),
        new FutureCallback<R>() {
          @Override
          public void onSuccess(R r) {
            out.complete(r);
          }

          @Override
          public void onFailure(Throwable t) {
            out.completeExceptionally(t);
          }
        }, MoreExecutors.directExecutor());
    return out;
  }

  /** A channel to a member's client URL: TLS for https, presenting this member's --cert-file. */
  private static ManagedChannel channel(StoreMember member, URI url) {
    String target = url.getHost() + ":" + url.getPort();
    if (!"https".equals(url.getScheme())) {
      return NettyChannelBuilder.forTarget(target).usePlaintext().build();
    }
    if (member.clientTls() == null) {
      return NettyChannelBuilder.forTarget(target, io.grpc.TlsChannelCredentials.create()).build();
    }
    return NettyChannelBuilder.forTarget(target, member.clientTls().grpcChannel()).build();
  }

  @Override
  public void close() {
    channels.values().forEach(ManagedChannel::shutdownNow);
    channels.clear();
  }
}
