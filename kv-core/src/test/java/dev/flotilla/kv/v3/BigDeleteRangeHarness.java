package dev.flotilla.kv.v3;

import com.google.protobuf.ByteString;
import dev.flotilla.kv.mvcc.MvccStore;
import dev.flotilla.kv.server.ApplyOutcome;
import dev.flotilla.kv.server.StoreStateMachine;
import dev.flotilla.proto.etcd.etcdserverpb.DeleteRangeRequest;
import dev.flotilla.proto.etcd.etcdserverpb.DeleteRangeResponse;
import dev.flotilla.proto.etcd.etcdserverpb.PutRequest;
import dev.flotilla.proto.store.StoreCommand;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Not a test: times the clean-up of {@code etcdctl check perf} on one store. Puts N keys as check
 * perf writes them (prefix "/etcdctl-check-perf/" and 256 bytes: a varint of a random number, then
 * zeros; 1 KiB zero values), each put its own log entry (applied in groups of 200), flushes, then
 * applies the one DeleteRange over the prefix and prints its wall time and the apply thread's CPU.
 * Usage: {@code java -cp <test classpath> dev.flotilla.kv.v3.BigDeleteRangeHarness [keys] [dir]}.
 */
public final class BigDeleteRangeHarness {
  private BigDeleteRangeHarness() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    Path dir = args.length > 1 ? Path.of(args[1]) : Files.createTempDirectory("bigdel");
    var bean = ManagementFactory.getThreadMXBean();
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    String prefix = "/etcdctl-check-perf/";
    ByteString value = ByteString.copyFrom(new byte[1024]);
    Random rnd = new Random(42);
    try (MvccStore store = MvccStore.open(dir)) {
      StoreStateMachine machine = new StoreStateMachine(store);
      long index = store.appliedIndex();
      List<StoreStateMachine.Entry> group = new ArrayList<>();
      long putCpu0 = bean.getCurrentThreadCpuTime();
      long putProc0 = os.getProcessCpuTime();
      for (int i = 0; i < n; i++) {
        byte[] k = new byte[256];
        putVarint(k, rnd.nextLong() & Long.MAX_VALUE);
        ByteString key = ByteString.copyFromUtf8(prefix).concat(ByteString.copyFrom(k));
        group.add(new StoreStateMachine.Entry(++index, StoreCommand.newBuilder()
            .setV3Put(PutRequest.newBuilder().setKey(key).setValue(value)).build().toByteArray()));
        if (group.size() == 200) {
          machine.applyBatch(group);
          group.clear();
        }
      }
      if (!group.isEmpty()) {
        machine.applyBatch(group);
      }
      long putCpu1 = bean.getCurrentThreadCpuTime();
      store.flush();
      Thread.sleep(2000); // let RocksDB's background compactions settle
      long putProc1 = os.getProcessCpuTime();
      System.out.printf("puts: apply thread CPU %.1f us/put, process CPU %.1f us/put (with the flush and"
          + " compactions)%n", (putCpu1 - putCpu0) / 1e3 / n, (putProc1 - putProc0) / 1e3 / n);
      byte[] del = StoreCommand.newBuilder().setV3DeleteRange(DeleteRangeRequest.newBuilder()
          .setKey(ByteString.copyFromUtf8(prefix))
          .setRangeEnd(ByteString.copyFromUtf8("/etcdctl-check-perf0"))).build().toByteArray();
      System.gc();
      long cpu0 = bean.getCurrentThreadCpuTime();
      long proc0 = os.getProcessCpuTime();
      long t0 = System.nanoTime();
      ApplyOutcome o = machine.apply(++index, del);
      long t1 = System.nanoTime();
      long cpu1 = bean.getCurrentThreadCpuTime();
      long proc1 = os.getProcessCpuTime();
      long deleted = ((DeleteRangeResponse) ((ApplyOutcome.V3Done) o).response()).getDeleted();
      System.out.printf("keys put %d, deleted %d: wall %.0f ms, apply thread CPU %.0f ms (%.1f us/key),"
          + " process CPU %.0f ms%n", n, deleted, (t1 - t0) / 1e6, (cpu1 - cpu0) / 1e6,
          (cpu1 - cpu0) / 1e3 / Math.max(1, deleted), (proc1 - proc0) / 1e6);
    }
  }

  /** Go's binary.PutVarint (zig-zag). */
  static void putVarint(byte[] buf, long x) {
    long ux = x << 1;
    if (x < 0) {
      ux = ~ux;
    }
    int i = 0;
    while (Long.compareUnsigned(ux, 0x80) >= 0) {
      buf[i++] = (byte) (ux | 0x80);
      ux >>>= 7;
    }
    buf[i] = (byte) ux;
  }
}
