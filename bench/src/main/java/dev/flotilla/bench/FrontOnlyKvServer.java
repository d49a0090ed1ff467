package dev.flotilla.bench;

import dev.flotilla.proto.etcd.etcdserverpb.DeleteRangeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.DeleteRangeResponse;
import dev.flotilla.proto.etcd.etcdserverpb.KVGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.PutRequest;
import dev.flotilla.proto.etcd.etcdserverpb.PutResponse;
import dev.flotilla.proto.etcd.etcdserverpb.RangeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.RangeResponse;
import dev.flotilla.proto.etcd.etcdserverpb.ResponseHeader;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * An etcd v3 KV endpoint with no store behind it: Put, Range and DeleteRange are answered at once
 * on the gRPC event loop that read them, with a header and nothing else. Under `etcdctl check
 * perf` it measures what the client and grpc-java's front cost on this machine by themselves,
 * set up as kvd sets up its gRPC server (epoll loops, direct executor): the ceiling that no store
 * behind that front can pass (issue #5's 8,000 writes/s target).
 */
@Command(name = "front-only-kv", mixinStandardHelpOptions = true,
    description = "Serve etcd's v3 KV API with no store (answers at once) on the given addresses.")
public final class FrontOnlyKvServer implements Callable<Integer> {
  @Option(names = "--listen", split = ",", required = true,
      description = "host:port to listen on, comma-separated (e.g. 127.0.0.91:2379,127.0.0.92:2379)")
  List<String> listen;

  @Option(names = "--loops", defaultValue = "0",
      description = "gRPC worker event loops (0: twice the cores, gRPC's default; bench/front-only.sh gives 2)")
  int loops;

  private final AtomicLong revision = new AtomicLong(1);

  public static void main(String[] args) {
    System.exit(new CommandLine(new FrontOnlyKvServer()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (!Epoll.isAvailable()) {
      System.err.println("front-only-kv: needs epoll (Linux), as kvd's gRPC hand-over does");
      return 1;
    }
    List<Server> servers = start();
    System.out.println("front-only-kv: serving on " + listen);
    for (Server server : servers) {
      server.awaitTermination();
    }
    return 0;
  }

  /** Starts one server per {@link #listen} address, all on the same event loops. */
  List<Server> start() throws IOException {
    EpollEventLoopGroup boss = new EpollEventLoopGroup(1, new DefaultThreadFactory("grpc-default-boss-ELG", true));
    EpollEventLoopGroup workers = new EpollEventLoopGroup(loops, new DefaultThreadFactory("grpc-default-worker-ELG", true));
    List<Server> servers = new ArrayList<>();
    for (String address : listen) {
      int colon = address.lastIndexOf(':');
      if (colon < 0) {
        throw new CommandLine.ParameterException(new CommandLine(this), "--listen wants host:port, got '" + address + "'");
      }
      InetSocketAddress at = new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
      servers.add(NettyServerBuilder.forAddress(at)
          .bossEventLoopGroup(boss).workerEventLoopGroup(workers).channelType(EpollServerSocketChannel.class)
          .directExecutor()
          .addService(new Kv())
          .build()
          .start());
    }
    return servers;
  }

  private ResponseHeader header() {
    return ResponseHeader.newBuilder().setClusterId(1).setMemberId(1).setRaftTerm(1)
        .setRevision(revision.get()).build();
  }

  private final class Kv extends KVGrpc.KVImplBase {
    @Override
    public void put(PutRequest request, StreamObserver<PutResponse> answer) {
      revision.incrementAndGet();
      answer.onNext(PutResponse.newBuilder().setHeader(header()).build());
      answer.onCompleted();
    }

    @Override
    public void range(RangeRequest request, StreamObserver<RangeResponse> answer) {
      answer.onNext(RangeResponse.newBuilder().setHeader(header()).build());
      answer.onCompleted();
    }

    @Override
    public void deleteRange(DeleteRangeRequest request, StreamObserver<DeleteRangeResponse> answer) {
      answer.onNext(DeleteRangeResponse.newBuilder().setHeader(header()).build());
      answer.onCompleted();
    }
  }
}
