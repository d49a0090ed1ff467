package dev.flotilla.raft.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flotilla.proto.raft.RaftMessage;
import dev.flotilla.raft.core.ConfChange;
import dev.flotilla.raft.core.ConfState;
import dev.flotilla.raft.core.Entry;
import dev.flotilla.raft.core.Message;
import dev.flotilla.raft.core.Snapshot;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class MessageCodecTest {

  private static final byte[] CTX = {1, 2, 3};

  /** At least one sample of every message type, with edge values (empty, null, large numbers). */
  static List<Message> samples() {
    Entry conf = new Entry(7, 3, Entry.Type.CONF_CHANGE, ConfChange.addLearner(4).encode());
    Snapshot snap = new Snapshot(100, 5, new ConfState(new TreeSet<>(Set.of(1L, 2L, 3L)), new TreeSet<>(Set.of(4L))),
        new byte[] {9, 8, 7});
    return List.of(
        new Message.AppendEntries(1, 2, 3, 5, 2, List.of(Entry.normal(6, 3, new byte[] {42}), conf,
            Entry.normal(8, 3, new byte[0])), 6),
        new Message.AppendEntries(1, 2, Long.MAX_VALUE, 0, 0, List.of(), 0),
        new Message.AppendResponse(2, 1, 3, 8, false, 0, 0),
        new Message.AppendResponse(2, 1, 3, 8, true, 5, 2),
        new Message.Heartbeat(1, 2, 3, 8, null),
        new Message.Heartbeat(1, 2, 3, 8, CTX),
        new Message.Heartbeat(1, 2, 3, 8, new byte[0]),
        new Message.HeartbeatResponse(2, 1, 3, null),
        new Message.HeartbeatResponse(2, 1, 3, new byte[0]),
        new Message.HeartbeatResponse(2, 1, 3, CTX),
        new Message.VoteRequest(1, 2, 4, 8, 3, true, false),
        new Message.VoteRequest(1, 2, 4, 8, 3, false, true),
        new Message.VoteResponse(2, 1, 4, true, true),
        new Message.VoteResponse(2, 1, 4, false, false),
        new Message.InstallSnapshot(1, 2, 5, snap),
        new Message.InstallSnapshot(1, 2, 5, new Snapshot(1, 1, ConfState.ofVoters(1), new byte[0])),
        new Message.TimeoutNow(1, 2, 5),
        new Message.TransferLeader(2, 1, 5, 3),
        new Message.ReadIndexRequest(2, 1, 5, CTX),
        new Message.ReadIndexRequest(2, 1, 5, new byte[0]),
        new Message.ReadIndexResponse(1, 2, 5, 99, CTX),
        new Message.Propose(2, 1, 5, List.of(CTX, new byte[0])),
        new Message.Propose(-0x71a1fa3ade9b96b3L, 1, 5, List.of()));
  }

  @Test
  void everyMessageTypeRoundTripsThroughTheWireForm() throws Exception {
    for (Message m : samples()) {
      byte[] wire = MessageCodec.encode(m).toByteArray();
      Message back = MessageCodec.decode(RaftMessage.parseFrom(wire));
      assertThat(back).as("%s", m).usingRecursiveComparison().isEqualTo(m);
      assertThat(back.getClass()).isEqualTo(m.getClass());
    }
  }

  @Test
  void theSamplesCoverEveryMessageType() {
    Set<Class<?>> covered = samples().stream().map(Object::getClass).collect(Collectors.toSet());
    assertThat(covered).containsExactlyInAnyOrder(Message.class.getPermittedSubclasses());
  }

  @Test
  void decodedMessagesOwnTheirBytes() throws Exception {
    byte[] data = {1, 2, 3};
    RaftMessage wire = MessageCodec.encode(new Message.AppendEntries(1, 2, 1, 0, 0, List.of(Entry.normal(1, 1, data)), 0));
    Message.AppendEntries back = (Message.AppendEntries) MessageCodec.decode(RaftMessage.parseFrom(wire.toByteArray()));
    data[0] = 9;
    assertThat(back.entries().get(0).data()).containsExactly(1, 2, 3);
  }

  @Test
  void confChangesAndConfStatesRoundTrip() {
    for (ConfChange c : List.of(ConfChange.addVoter(1), ConfChange.addLearner(2), ConfChange.remove(3))) {
      assertThat(MessageCodec.decode(MessageCodec.encode(c))).isEqualTo(c);
    }
    ConfState s = new ConfState(new TreeSet<>(Set.of(3L, 1L)), new TreeSet<>(Set.of(7L)));
    assertThat(MessageCodec.decode(MessageCodec.encode(s))).isEqualTo(s);
  }

  @Test
  void aMessageWithoutBodyOrWithAnUnknownEntryTypeIsRefused() {
    assertThatThrownBy(() -> MessageCodec.decode(RaftMessage.newBuilder().setFrom(1).setTo(2).build()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("has no body");
    RaftMessage bad = MessageCodec.encode(new Message.AppendEntries(1, 2, 1, 0, 0, List.of(Entry.normal(1, 1, null)), 0))
        .toBuilder().setAppend(dev.flotilla.proto.raft.AppendEntries.newBuilder()
            .addEntries(dev.flotilla.proto.raft.Entry.newBuilder().setIndex(1).setTypeValue(5))).build();
    assertThatThrownBy(() -> MessageCodec.decode(bad))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown type 5");
  }

  @Test
  void entryDataIsWrappedNotCopiedWhenEncoding() {
    byte[] data = new byte[1 << 20];
    Arrays.fill(data, (byte) 1);
    RaftMessage wire = MessageCodec.encode(new Message.AppendEntries(1, 2, 1, 0, 0, List.of(Entry.normal(1, 1, data)), 0));
    data[0] = 2; // visible through the wrapper: proof that no copy was made
    assertThat(wire.getAppend().getEntries(0).getData().byteAt(0)).isEqualTo((byte) 2);
  }
}
