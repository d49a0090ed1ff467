package dev.flotilla.raft.core;

import java.util.List;

/**
 * Work the application must do, in this order, before calling {@link RawNode#advance}:
 *
 * <ol>
 *   <li>persist {@code snapshot} (if any), {@code entries} and {@code hardState} (if not null), and
 *       sync them when {@link #mustSync()};</li>
 *   <li>send {@code messages} (they may depend on what was just persisted: a vote, an ack);</li>
 *   <li>apply {@code snapshot} to the state machine, then {@code committedEntries} in order;</li>
 *   <li>act on {@code readStates} once applied up to their index.</li>
 * </ol>
 *
 * @param softState the new leader/role, null when unchanged
 * @param hardState the new hard state, null when unchanged
 * @param mustSync whether what this Ready persists must reach the disk before its messages go out:
 *     entries, a snapshot, or a new term or vote. A hard state that only moves the commit index
 *     may wait for a later sync (etcd's MustSync): a commit index lost in a crash is learnt again
 *     from the leader, and an application that had applied further tells the node so at restart.
 */
public record Ready(
    SoftState softState,
    HardState hardState,
    List<Entry> entries,
    Snapshot snapshot,
    List<Entry> committedEntries,
    List<Message> messages,
    List<ReadState> readStates,
    boolean mustSync) {

  public Ready {
    entries = List.copyOf(entries);
    committedEntries = List.copyOf(committedEntries);
    messages = List.copyOf(messages);
    readStates = List.copyOf(readStates);
  }
}
