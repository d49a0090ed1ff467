package dev.flotilla.raft.storage;

import static dev.flotilla.raft.storage.StorageFixtures.crashCopy;
import static dev.flotilla.raft.storage.StorageFixtures.entry;
import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.raft.core.ConfState;
import dev.flotilla.raft.core.Entry;
import dev.flotilla.raft.core.HardState;
import dev.flotilla.raft.core.LogStore;
import dev.flotilla.raft.core.MemLogStore;
import dev.flotilla.raft.core.Snapshot;
import dev.flotilla.raft.wal.WalOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random Ready sequences, shaped like the core's (appends, suffix overwrites by a new leader,
 * commits, leaders' snapshots, local snapshots with compaction, restarts), against a
 * {@link MemLogStore} model. At random points a power cut is simulated by copying the files,
 * sometimes in the middle of a Ready; the copy must open to what was synced, or (mid-Ready) to what
 * was synced plus a prefix of the Ready's writes.
 */
class WalLogStoreCrashModelTest {

  private static final int SEEDS = Integer.getInteger("storage.seeds", 40);
  private static final WalLogStore.Options OPTIONS =
      WalLogStore.Options.defaults().withWal(WalOptions.defaults().withSegmentBytes(2048)).withRetainSnapshots(2);

  @TempDir Path tmp;
  private int copies;

  /** What recovery must reproduce: the snapshot, the log after it, the hard state. */
  record State(HardState hardState, long snapIndex, long snapTerm, ConfState conf, String data, List<Entry> log) {

    static State of(LogStore s) {
      Snapshot snap = s.snapshot();
      long from = snap.index() + 1;
      List<Entry> log = s.lastIndex() >= from ? s.entries(from, s.lastIndex() + 1, Long.MAX_VALUE) : List.of();
      return new State(s.hardState(), snap.index(), snap.term(), snap.confState(),
          HexFormat.of().formatHex(snap.data()), List.copyOf(log));
    }

    MemLogStore restore() {
      MemLogStore m = new MemLogStore();
      if (snapIndex > 0) {
        m.applySnapshot(new Snapshot(snapIndex, snapTerm, conf, HexFormat.of().parseHex(data)));
      }
      m.append(log);
      m.setHardState(hardState);
      return m;
    }
  }

  @Test
  void randomReadySequencesRecoverWhatWasSyncedAfterACrashAnywhere() throws IOException {
    for (long seed = 1; seed <= SEEDS; seed++) {
      run(seed);
    }
  }

  private void run(long seed) throws IOException {
    Random r = new Random(seed);
    Path dir = tmp.resolve("seed-" + seed);
    MemLogStore model = new MemLogStore();
    WalLogStore store = WalLogStore.open(dir, OPTIONS);
    try {
      long term = 1;
      long commit = 0;
      State synced = State.of(model);
      for (int step = 0; step < 150; step++) {
        String at = "seed " + seed + " step " + step;
        int op = r.nextInt(100);
        if (op < 70) {
          Snapshot leaders = null;
          if (r.nextInt(25) == 0) {
            term += r.nextInt(2);
            long index = commit + 1 + r.nextInt(40);
            leaders = new Snapshot(index, term, ConfState.ofVoters(1, 2, 3 + r.nextInt(3)), bytes(r, 30));
            store.applySnapshot(leaders);
            model.applySnapshot(leaders);
            commit = index;
          }
          List<Entry> batch = new ArrayList<>();
          long first;
          if (r.nextInt(4) == 0 && model.lastIndex() > commit) {
            term++; // a new leader overwrites the uncommitted suffix
            first = commit + 1 + r.nextInt((int) (model.lastIndex() - commit));
          } else {
            first = model.lastIndex() + 1;
          }
          int n = r.nextInt(12);
          for (int i = 0; i < n; i++) {
            batch.add(entry(first + i, term, r.nextInt(120)));
          }
          store.append(batch);
          model.append(batch);
          commit += r.nextInt((int) (model.lastIndex() - commit) + 1);
          HardState hs = new HardState(term, r.nextInt(4), commit);
          store.setHardState(hs);
          model.setHardState(hs);
          if (r.nextInt(8) == 0) {
            List<State> candidates = new ArrayList<>(List.of(synced));
            MemLogStore partial = synced.restore();
            if (leaders != null) {
              partial.applySnapshot(leaders);
              candidates.add(State.of(partial));
            }
            for (Entry e : batch) {
              partial.append(List.of(e));
              candidates.add(State.of(partial));
            }
            partial.setHardState(hs);
            candidates.add(State.of(partial));
            assertThat(crashAndRecover(dir)).as(at + " (mid-Ready)").isIn(candidates);
          }
          store.sync();
          synced = State.of(model);
        } else if (op < 80 && commit > model.snapshot().index()) {
          long index = model.snapshot().index() + 1 + r.nextInt((int) (commit - model.snapshot().index()));
          ConfState conf = ConfState.ofVoters(1, 2, 3);
          byte[] data = bytes(r, 50);
          store.createSnapshot(index, conf, data);
          model.createSnapshot(index, conf, data);
          long compactTo = index - r.nextInt(5);
          if (compactTo >= model.firstIndex()) {
            store.compact(compactTo);
            model.compact(compactTo);
          }
          synced = State.of(model);
        } else if (op < 93) {
          assertThat(crashAndRecover(dir)).as(at).isEqualTo(synced);
        } else {
          store.close();
          store = WalLogStore.open(dir, OPTIONS);
          assertThat(State.of(store)).as(at + " (restart)").isEqualTo(synced);
        }
      }
    } finally {
      store.close();
    }
  }

  private State crashAndRecover(Path dir) throws IOException {
    Path copy = crashCopy(dir, tmp.resolve("crash-" + copies++));
    try (WalLogStore recovered = WalLogStore.open(copy, OPTIONS)) {
      return State.of(recovered);
    }
  }

  private static byte[] bytes(Random r, int max) {
    byte[] b = new byte[1 + r.nextInt(max)];
    r.nextBytes(b);
    return b;
  }
}
