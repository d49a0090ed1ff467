package dev.flotilla.kv.server;

import dev.flotilla.kv.mvcc.MvccStore;
import dev.flotilla.proto.store.StoreCommand;
import dev.flotilla.proto.store.V2Method;
import dev.flotilla.proto.store.V2Write;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Not a test: the apply thread's CPU per v2 PUT as bench/profile-put.sh's load makes them
 * ({@code PUT /v2/keys/bench/k<n>}, n among 1,000 keys, 256-byte values), applied in groups of
 * G entries on one store, without the cluster around it (whose noise hides changes of a few
 * µs). Prints the CPU per entry of each block of entries after a warm-up block.
 * Usage: {@code java -cp <kvd classpath>:<test classes> dev.flotilla.kv.server.V2PutApplyHarness
 * [entries per block, 100000] [blocks, 4] [group, 64] [dir]}.
 */
public final class V2PutApplyHarness {
  private V2PutApplyHarness() {}

  public static void main(String[] args) throws Exception {
    int block = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    int blocks = args.length > 1 ? Integer.parseInt(args[1]) : 4;
    int groupSize = args.length > 2 ? Integer.parseInt(args[2]) : 64;
    Path dir = args.length > 3 ? Path.of(args[3]) : Files.createTempDirectory("v2put");
    var bean = ManagementFactory.getThreadMXBean();
    Random rnd = new Random(42);
    String value = "x".repeat(256);
    try (MvccStore store = MvccStore.open(dir)) {
      StoreStateMachine machine = new StoreStateMachine(store);
      long index = store.appliedIndex();
      for (int b = 0; b <= blocks; b++) { // block 0 is the warm-up
        long cpu0 = bean.getCurrentThreadCpuTime();
        List<StoreStateMachine.Entry> group = new ArrayList<>();
        for (int i = 0; i < block; i++) {
          V2Write w = V2Write.newBuilder().setMethod(V2Method.V2_PUT).setPath("/bench/k" + rnd.nextInt(1000))
              .setValue(value).setNowUnixNanos(System.currentTimeMillis() * 1_000_000L).build();
          group.add(new StoreStateMachine.Entry(++index, StoreCommand.newBuilder().setV2Write(w).build().toByteArray()));
          if (group.size() == groupSize) {
            machine.applyBatch(group);
            group.clear();
          }
        }
        if (!group.isEmpty()) {
          machine.applyBatch(group);
        }
        long cpu = bean.getCurrentThreadCpuTime() - cpu0;
        System.out.printf("block %d%s: %d entries, apply thread %.2f us/entry%n", b, b == 0 ? " (warm-up)" : "",
            block, cpu / 1e3 / block);
      }
    }
  }
}
