package dev.flotilla.kv.server;

import dev.flotilla.kv.mvcc.MvccStore;
import dev.flotilla.proto.store.StoreCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The store's state machine over a real RocksDB store in a test's directory, fed commands at the
 * next log indexes, as the replicated log would: the fixture of the tests that apply commands
 * without a log. Register one per test class with
 * {@code @RegisterExtension final MachineOnDisk disk = new MachineOnDisk();}: each test gets a store
 * of its own in a new temporary directory, closed and deleted after the test.
 */
public final class MachineOnDisk implements BeforeEachCallback, AfterEachCallback {
  private Path dir;
  private MvccStore store;
  private StoreStateMachine machine;
  private long index;

  @Override
  public void beforeEach(ExtensionContext context) throws IOException {
    dir = Files.createTempDirectory("machine-on-disk");
    index = 0;
    open();
  }

  @Override
  public void afterEach(ExtensionContext context) throws IOException {
    close();
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(MachineOnDisk::delete);
    }
  }

  private static void delete(Path p) {
    try {
      Files.delete(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void open() throws IOException {
    store = MvccStore.open(dir);
    machine = new StoreStateMachine(store);
  }

  /** Closes the store and opens it again from its directory, as a restarting member; indexes go on. */
  public void reopen() throws IOException {
    close();
    open();
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

  private void close() {
    machine.v3Watchers().close();
    store.close();
  }
}
