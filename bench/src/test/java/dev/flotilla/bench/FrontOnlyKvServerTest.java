package dev.flotilla.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.flotilla.proto.etcd.etcdserverpb.DeleteRangeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.KVGrpc;
import dev.flotilla.proto.etcd.etcdserverpb.PutRequest;
import dev.flotilla.proto.etcd.etcdserverpb.RangeRequest;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The store-less v3 endpoint answers what etcdctl check perf sends, and keeps nothing. */
class FrontOnlyKvServerTest {
  @Test
  void answersPutsRangesAndDeletesAtOnceWithARisingRevision() throws Exception {
    FrontOnlyKvServer kv = new FrontOnlyKvServer();
    new CommandLine(kv).parseArgs("--listen", "127.0.0.1:0", "--loops", "1");
    List<Server> servers = kv.start();
    int port = ((InetSocketAddress) servers.get(0).getListenSockets().get(0)).getPort();
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      var stub = KVGrpc.newBlockingStub(ch);
      ByteString key = ByteString.copyFromUtf8("/etcdctl-check-perf/a");
      long first = stub.put(PutRequest.newBuilder().setKey(key).setValue(ByteString.copyFrom(new byte[1024])).build())
          .getHeader().getRevision();
      long second = stub.put(PutRequest.newBuilder().setKey(key).build()).getHeader().getRevision();
      assertThat(second).isEqualTo(first + 1);
      // nothing is kept: check perf's "prefix not empty" check passes, its final delete deletes nothing
      assertThat(stub.range(RangeRequest.newBuilder().setKey(key).build()).getCount()).isZero();
      assertThat(stub.deleteRange(DeleteRangeRequest.newBuilder().setKey(key).build()).getDeleted()).isZero();
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      for (Server s : servers) {
        s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }
}
