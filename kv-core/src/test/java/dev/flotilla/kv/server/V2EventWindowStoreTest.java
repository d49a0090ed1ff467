package dev.flotilla.kv.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flotilla.kv.mvcc.ReadView;
import dev.flotilla.kv.mvcc.WriteTxn;
import dev.flotilla.kv.v2.V2Error;
import dev.flotilla.kv.v2.V2ErrorCode;
import dev.flotilla.kv.v2.V2Event;
import dev.flotilla.kv.v2.V2EventHistory;
import dev.flotilla.proto.store.StoreCommand;
import dev.flotilla.proto.store.V2Method;
import dev.flotilla.proto.store.V2Write;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The v2 watch window in the store ({@code v2events}): events that leave the window leave the
 * store in runs (a range delete every {@link StoreStateMachine#V2_EVENTS_TRIM_EVERY} indexes), so
 * the store holds the window and at most that many older events, and a restarted member serves
 * the same window as before.
 */
class V2EventWindowStoreTest {
  @RegisterExtension final MachineOnDisk disk = new MachineOnDisk();

  private static StoreCommand set(int i) {
    return StoreCommand.newBuilder().setV2Write(V2Write.newBuilder().setMethod(V2Method.V2_PUT)
        .setPath("/w/k" + (i % 50)).setValue("v" + i).setNowUnixNanos(1_000_000_000L * i)).build();
  }

  private int storedEvents() {
    try (ReadView view = disk.store().snapshot()) {
      return view.v2Events().size();
    }
  }

  /** The event a waitIndex watch of /w (recursive) at {@code index} gets at once; 401 below the window. */
  private V2Event waitAt(long index) throws V2Error {
    List<V2Event> got = new ArrayList<>();
    disk.machine().v2Watchers().watch("/w", true, false, index, got::add).cancel();
    assertThat(got).hasSize(1);
    return got.get(0);
  }

  @Test
  void theStoreKeepsTheWindowAndBoundedOlderEvents() {
    int writes = 5 * V2EventHistory.CAPACITY;
    int most = 0;
    for (int i = 1; i <= writes; i++) {
      if (i % 7 == 0) {
        disk.applyBatch(set(i), set(i + writes), set(i + 2 * writes)); // groups of several too
      } else {
        disk.apply(set(i));
      }
      if (i % 10 == 0) {
        most = Math.max(most, storedEvents());
      }
    }
    assertThat(most).isGreaterThan(V2EventHistory.CAPACITY)
        .isLessThanOrEqualTo(V2EventHistory.CAPACITY + (int) StoreStateMachine.V2_EVENTS_TRIM_EVERY);
    assertThat(storedEvents()).isGreaterThanOrEqualTo(V2EventHistory.CAPACITY);
  }

  @Test
  void aRestartServesTheSameWindow() throws Exception {
    for (int i = 1; i <= 3 * V2EventHistory.CAPACITY + 500; i++) {
      disk.apply(set(i));
    }
    long last = disk.store().revision(); // the last event's index: each set moves it by one
    long first = last - V2EventHistory.CAPACITY + 1;
    assertThat(storedEvents()).isGreaterThan(V2EventHistory.CAPACITY); // older ones not trimmed yet
    V2Event oldest = waitAt(first);

    disk.reopen();

    assertThat(waitAt(first)).isEqualTo(oldest);
    assertThat(waitAt(last).index()).isEqualTo(last);
    assertThatThrownBy(() -> waitAt(first - 1)).isInstanceOfSatisfying(V2Error.class,
        e -> assertThat(e.code()).isEqualTo(V2ErrorCode.EVENT_INDEX_CLEARED));
    // and it trims on from there
    for (int i = 1; i <= 2 * (int) StoreStateMachine.V2_EVENTS_TRIM_EVERY; i++) {
      disk.apply(set(i));
    }
    assertThat(storedEvents()).isLessThanOrEqualTo(
        V2EventHistory.CAPACITY + (int) StoreStateMachine.V2_EVENTS_TRIM_EVERY);
  }

  @Test
  void noCommandMayFollowTheRangeDeleteInItsGroup() {
    // WriteBatchWithIndex cannot index a range delete: a failed command's rollback would re-index
    try (WriteTxn txn = disk.store().begin()) {
      txn.deleteV2EventsBelow(10);
      assertThatThrownBy(() -> txn.startCommand(disk.lastIndex() + 1)).isInstanceOf(IllegalStateException.class);
    }
  }
}
