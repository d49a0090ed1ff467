package dev.flotilla.raft.storage;

import dev.flotilla.raft.core.ConfChange;
import dev.flotilla.raft.core.ConfState;
import dev.flotilla.raft.core.Entry;
import dev.flotilla.raft.core.HardState;
import dev.flotilla.raft.core.LogStore;
import dev.flotilla.raft.core.MemLogStore;
import dev.flotilla.raft.core.Snapshot;
import dev.flotilla.raft.wal.Wal;
import dev.flotilla.raft.wal.WalEntry;
import dev.flotilla.raft.wal.WalOptions;
import dev.flotilla.raft.wal.SnapshotMarker;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Raft log on disk: entries and hard state in a {@link Wal} under {@code dir/wal}, snapshots in
 * a {@link SnapshotStore} under {@code dir/snap}, with a {@link MemLogStore} holding the live log
 * (everything after the latest snapshot) for the core to read.
 *
 * <h2>Contract for the caller (the Ready loop)</h2>
 * For each {@link dev.flotilla.raft.core.Ready}, on one thread:
 * <ol>
 *   <li>{@link #applySnapshot} if the Ready has one (its file is written and fsynced at once; the
 *       WAL record that makes it the member's state is buffered);</li>
 *   <li>{@link #append} the entries, then {@link #setHardState} (both buffered, in that order: a
 *       crash keeps a prefix of what was buffered, so a durable hard state implies durable entries);</li>
 *   <li>{@link #sync()}: <b>one</b> write and one fdatasync for all of it (group commit);</li>
 *   <li>only then send the Ready's messages: a vote, an append acknowledgement or a commit index may
 *       be sent only once the state it reports is durable.</li>
 * </ol>
 * Until {@code sync()} returns nothing buffered may be relied on: after a crash it may be there or
 * not (the WAL keeps a prefix). The reads ({@link #term}, {@link #entries}, ...) see buffered writes
 * at once, as the core expects.
 *
 * <p>{@link #createSnapshot} and {@link #compact} are the application's, between Readys, on the same
 * thread: the first writes the snapshot file and syncs the WAL marker pointing at it; the second
 * drops entries from memory and releases WAL segments behind the <em>oldest</em> retained snapshot,
 * so that if the newest snapshot file turns out corrupt at the next start the older one still has
 * the log after it.
 *
 * <h2>Recovery</h2>
 * {@link #open} loads the newest valid snapshot at or below the WAL's snapshot marker (files above it
 * never took effect and are deleted; corrupt ones are renamed {@code .broken} and an older one is
 * used), then replays the WAL entries after it and the last hard state. If the WAL does not hold the
 * log from just after the snapshot that could be loaded, the open fails: the member must then be
 * wiped and rejoin.
 *
 * <p>Entry types are kept by prefixing each WAL record's data with one byte (0 normal, 1 conf
 * change). Not thread-safe. After an {@link IOException} from the WAL the store is unusable (the
 * LogStore methods throw {@link UncheckedIOException}); close and reopen it.
 */
public final class WalLogStore implements LogStore, Closeable {

  private static final Logger LOG = LoggerFactory.getLogger(WalLogStore.class);

  /**
   * @param wal tuning of the WAL
   * @param retainSnapshots snapshot files kept (at least 1); older ones are deleted, and the WAL keeps
   *     the log after the oldest kept one, so up to {@code retainSnapshots - 1} corrupt newest files
   *     can be survived
   */
  public record Options(WalOptions wal, int retainSnapshots) {
    public Options {
      Objects.requireNonNull(wal, "wal");
      if (retainSnapshots < 1) {
        throw new IllegalArgumentException("retainSnapshots must be >= 1, got " + retainSnapshots);
      }
    }

    public static Options defaults() {
      return new Options(WalOptions.defaults(), 3);
    }

    public Options withWal(WalOptions options) {
      return new Options(options, retainSnapshots);
    }

    public Options withRetainSnapshots(int n) {
      return new Options(wal, n);
    }
  }

  private final Path dir;
  private final Options options;
  private final Wal wal;
  private final SnapshotStore snapshots;
  private final MemLogStore cache;
  /**
   * A leader's snapshot was installed and its WAL marker is not synced yet: after the next sync,
   * prune old snapshot files and release the WAL segments holding the log it replaced.
   */
  private boolean installedSinceSync;

  private WalLogStore(Path dir, Options options, Wal wal, SnapshotStore snapshots, MemLogStore cache) {
    this.dir = dir;
    this.options = options;
    this.wal = wal;
    this.snapshots = snapshots;
    this.cache = cache;
  }

  /** Opens or creates the store in {@code dir} and recovers it (see the class comment). */
  public static WalLogStore open(Path dir, Options options) throws IOException {
    Objects.requireNonNull(options, "options");
    SnapshotStore snapshots = SnapshotStore.open(dir.resolve("snap"));
    Wal wal = Wal.open(dir.resolve("wal"), options.wal());
    try {
      MemLogStore cache = recover(dir, wal, snapshots);
      return new WalLogStore(dir, options, wal, snapshots, cache);
    } catch (IOException | RuntimeException e) {
      wal.close();
      throw e;
    }
  }

  private static MemLogStore recover(Path dir, Wal wal, SnapshotStore snapshots) throws IOException {
    SnapshotMarker marker = wal.lastSnapshot();
    long markerIndex = marker == null ? 0 : marker.index();
    snapshots.deleteAbove(markerIndex);
    Snapshot snap = markerIndex == 0 ? Snapshot.EMPTY : snapshots.loadNewest(markerIndex).orElse(Snapshot.EMPTY);
    if (marker != null && snap.index() == markerIndex && snap.term() != marker.term()) {
      throw new IOException("store " + dir + ": snapshot at index " + markerIndex + " has term " + snap.term()
          + " but the WAL's marker says " + marker.term() + "; wipe the member and let it rejoin");
    }
    if (snap.index() < markerIndex) {
      LOG.warn("store {}: the WAL points at a snapshot at index {} but the newest valid snapshot file is at {}; "
          + "recovering from that one and the WAL entries after it", dir, markerIndex, snap.index());
    }
    long from = snap.index() + 1;
    long first = wal.firstIndex();
    long last = wal.lastIndex();
    if (last >= from && first > from) {
      throw new IOException("store " + dir + ": the WAL holds entries " + first + ".." + last
          + " but recovery needs them from " + from + " (after the snapshot at " + snap.index()
          + (snap.index() < markerIndex ? "; the newer snapshot at " + markerIndex + " is unreadable" : "")
          + "); wipe the member and let it rejoin");
    }
    if (last < from && markerIndex > snap.index()) {
      throw new IOException("store " + dir + ": the snapshot at index " + markerIndex + " is unreadable and the WAL"
          + " does not hold the log after the older snapshot at " + snap.index()
          + "; wipe the member and let it rejoin");
    }
    MemLogStore cache = new MemLogStore();
    if (!snap.isEmpty()) {
      cache.applySnapshot(snap);
    }
    List<Entry> entries = new ArrayList<>();
    long[] termAtSnapshot = {-1};
    wal.replay(Math.max(1, snap.index()), e -> {
      if (e.index() == snap.index()) {
        termAtSnapshot[0] = e.term();
      } else {
        entries.add(toEntry(e));
      }
    });
    if (termAtSnapshot[0] >= 0 && termAtSnapshot[0] != snap.term()) {
      throw new IOException("store " + dir + ": the WAL's entry " + snap.index() + " has term " + termAtSnapshot[0]
          + " but the snapshot there has term " + snap.term() + "; wipe the member and let it rejoin");
    }
    cache.append(entries);
    cache.setHardState(toCore(wal.hardState()));
    return cache;
  }

  /**
   * Writes the founding log of a new cluster (one ADD_VOTER entry per founder at indexes 1..n, term
   * 1, committed; as {@link MemLogStore#bootstrap}) and syncs it. Only on an empty store.
   */
  public void bootstrap(List<Long> founders) throws IOException {
    bootstrap(founders, id -> new byte[0]);
  }

  /**
   * As {@link #bootstrap(List)}, each founder's entry carrying {@code context.apply(id)} (see
   * {@link ConfChange#context}): the application's record of that member, applied like any later add.
   */
  public void bootstrap(List<Long> founders, java.util.function.LongFunction<byte[]> context) throws IOException {
    if (!isEmpty()) {
      throw new IllegalStateException("store " + dir + " is not empty (last index " + lastIndex() + ", hard state "
          + hardState() + "); bootstrap only a new member");
    }
    List<Entry> initial = new ArrayList<>();
    long index = 1;
    for (long id : founders) {
      initial.add(new Entry(index++, 1, Entry.Type.CONF_CHANGE, ConfChange.addVoter(id).encode(context.apply(id))));
    }
    append(initial);
    setHardState(new HardState(1, 0, founders.size()));
    wal.sync();
  }

  /** A member that has never written anything. */
  public boolean isEmpty() {
    return cache.lastIndex() == 0 && cache.snapshot().isEmpty() && cache.hardState().equals(HardState.EMPTY);
  }

  // ---- reads: the cache ------------------------------------------------------------------------

  @Override
  public HardState hardState() {
    return cache.hardState();
  }

  @Override
  public Snapshot snapshot() {
    return cache.snapshot();
  }

  @Override
  public long firstIndex() {
    return cache.firstIndex();
  }

  @Override
  public long lastIndex() {
    return cache.lastIndex();
  }

  @Override
  public long term(long index) {
    return cache.term(index);
  }

  @Override
  public List<Entry> entries(long lo, long hi, long maxBytes) {
    return cache.entries(lo, hi, maxBytes);
  }

  // ---- writes: WAL first (buffered), then the cache -----------------------------------------

  @Override
  public void append(List<Entry> batch) {
    if (batch.isEmpty()) {
      return;
    }
    // entries the snapshot covers are not written again (the WAL refuses them)
    SnapshotMarker marker = wal.lastSnapshot();
    long snapIndex = Math.max(cache.snapshot().index(), marker == null ? 0 : marker.index());
    List<WalEntry> out = new ArrayList<>(batch.size());
    for (Entry e : batch) {
      if (e.index() > snapIndex) {
        out.add(toWal(e));
      }
    }
    io(() -> wal.append(out));
    cache.append(batch);
  }

  @Override
  public void setHardState(HardState state) {
    io(() -> wal.saveHardState(new dev.flotilla.raft.wal.HardState(state.term(), state.vote(), state.commit())));
    cache.setHardState(state);
  }

  /** A leader's snapshot replacing the whole log: file now (fsynced), WAL reset marker at the next sync. */
  @Override
  public void applySnapshot(Snapshot snapshot) {
    if (snapshot.index() <= cache.snapshot().index()) {
      throw new IllegalArgumentException("snapshot " + snapshot.index() + " is not newer than " + cache.snapshot().index());
    }
    io(() -> {
      snapshots.save(snapshot);
      wal.resetToSnapshot(snapshot.index(), snapshot.term());
    });
    cache.applySnapshot(snapshot);
    installedSinceSync = true;
  }

  /** A snapshot of the application's state: file written and the WAL marker synced before returning. */
  @Override
  public void createSnapshot(long index, ConfState confState, byte[] data) {
    if (index <= cache.snapshot().index()) {
      return;
    }
    if (index > cache.lastIndex()) {
      throw new IllegalArgumentException("snapshot index " + index + " is past the last index " + cache.lastIndex());
    }
    Snapshot snapshot = new Snapshot(index, cache.term(index), confState, data);
    io(() -> {
      snapshots.save(snapshot);
      SnapshotMarker marker = wal.lastSnapshot();
      // after recovering from an older snapshot (the newest file was corrupt) the WAL's marker may
      // already be past this index; the file alone then suffices, recovery loads the newest <= marker
      if (marker == null || index > marker.index()) {
        wal.saveSnapshotMarker(snapshot.index(), snapshot.term());
      }
      wal.sync();
      snapshots.prune(options.retainSnapshots());
    });
    cache.createSnapshot(index, confState, data);
  }

  /**
   * Drops entries up to {@code index} from memory, and releases the WAL segments whose entries all
   * lie at or below both {@code index} and the oldest retained snapshot (so it keeps that snapshot's
   * own entry, whose term recovery checks).
   */
  @Override
  public void compact(long index) {
    cache.compact(index);
    io(() -> {
      List<SnapshotStore.SnapshotFile> files = snapshots.list();
      if (files.isEmpty()) {
        return;
      }
      long oldest = files.get(files.size() - 1).index();
      wal.releaseBefore(Math.min(index, oldest));
    });
  }

  /** The group-commit point: everything buffered since the last sync becomes durable at once. */
  @Override
  public void sync() {
    io(() -> {
      long t0 = System.nanoTime();
      wal.sync();
      syncListener.accept(System.nanoTime() - t0);
      if (installedSinceSync) {
        installedSinceSync = false;
        snapshots.prune(options.retainSnapshots());
        // the log before the installed snapshot is dead: no older snapshot can be fallen back on
        wal.releaseBefore(cache.snapshot().index());
      }
    });
  }

  private volatile java.util.function.LongConsumer syncListener = nanos -> { };

  /** Told how long each WAL fsync took, in nanoseconds (for a latency histogram). */
  public void onSync(java.util.function.LongConsumer listener) {
    this.syncListener = listener;
  }

  public Path directory() {
    return dir;
  }

  /** Syncs what is buffered and closes the WAL. */
  @Override
  public void close() throws IOException {
    wal.close();
  }

  // ---- conversions ----------------------------------------------------------------------------

  private static WalEntry toWal(Entry e) {
    byte[] data = new byte[e.data().length + 1];
    data[0] = (byte) e.type().ordinal();
    System.arraycopy(e.data(), 0, data, 1, e.data().length);
    return new WalEntry(e.index(), e.term(), data);
  }

  private static Entry toEntry(WalEntry e) {
    byte[] raw = e.data();
    if (raw.length == 0 || raw[0] < 0 || raw[0] >= Entry.Type.values().length) {
      throw new IllegalStateException("WAL entry " + e.index() + " has no valid entry type byte");
    }
    byte[] data = new byte[raw.length - 1];
    System.arraycopy(raw, 1, data, 0, data.length);
    return new Entry(e.index(), e.term(), Entry.Type.values()[raw[0]], data);
  }

  private static HardState toCore(dev.flotilla.raft.wal.HardState hs) {
    return new HardState(hs.term(), hs.vote(), hs.commit());
  }

  private interface IoAction {
    void run() throws IOException;
  }

  private void io(IoAction action) {
    try {
      action.run();
    } catch (IOException e) {
      throw new UncheckedIOException("store " + dir + ": " + e.getMessage(), e);
    }
  }
}
