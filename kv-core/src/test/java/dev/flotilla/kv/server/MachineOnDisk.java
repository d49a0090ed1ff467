package dev.flotilla.kv.server;

import dev.flotilla.kv.mvcc.MvccStore;
import dev.flotilla.proto.store.StoreCommand;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The store's state machine over a real RocksDB store in a test's directory, fed commands at the
 * next log indexes, as the replicated log would: the fixture of the tests that apply commands
 * without a log.
 */
public final class MachineOnDisk implements AutoCloseable {
  private final Path dir;
  private MvccStore store;
  private StoreStateMachine machine;
  private long index;

  private MachineOnDisk(Path dir) throws IOException {
    this.dir = dir;
    this.store = MvccStore.open(dir);
    this.machine = new StoreStateMachine(store);
  }

  public static MachineOnDisk open(Path dir) throws IOException {
    return new MachineOnDisk(dir);
  }

  /** Closes the store and opens it again from its directory, as a restarting member; indexes go on. */
  public void reopen() throws IOException {
    close();
    store = MvccStore.open(dir);
    machine = new StoreStateMachine(store);
  }

  /** The index of the last command applied through this fixture. */
  public long lastIndex() {
    return index;
  }

  public MvccStore store() {
    return store;
  }

  public StoreStateMachine machine() {
    return machine;
  }

  /** Applies {@code c} at the next index. */
  public ApplyOutcome apply(StoreCommand c) {
    return machine.apply(++index, c.toByteArray());
  }

  /** Applies {@code commands} as one group (one RocksDB batch), at the next indexes. */
  public List<ApplyOutcome> applyBatch(StoreCommand... commands) {
    List<StoreStateMachine.Entry> entries = new ArrayList<>();
    for (StoreCommand c : commands) {
      entries.add(new StoreStateMachine.Entry(++index, c.toByteArray()));
    }
    return machine.applyBatch(entries);
  }

  @Override
  public void close() {
    machine.v3Watchers().close();
    store.close();
  }
}
