package dev.flotilla.raft.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flotilla.raft.sim.Lockstep;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The Raft paper's figure 7 (divergent logs repaired) and figure 8 (commit only current-term entries). */
class RaftPaperScenariosTest {

  private static final ConfState THREE = ConfState.ofVoters(1, 2, 3);
  private static final ConfState FIVE = ConfState.ofVoters(1, 2, 3, 4, 5);

  private static MemLogStore store(ConfState cs, long term, long commit, long... terms) {
    MemLogStore s = MemLogStore.withMembership(cs);
    List<Entry> es = new ArrayList<>();
    for (int i = 0; i < terms.length; i++) {
      es.add(Entry.normal(i + 1, terms[i], ("e" + (i + 1) + "t" + terms[i]).getBytes(StandardCharsets.UTF_8)));
    }
    s.append(es);
    s.setHardState(new HardState(term, 0, commit));
    return s;
  }

  static Stream<Arguments> figure7Followers() {
    return Stream.of(
        Arguments.of("a", new long[] {1, 1, 1, 4, 4, 5, 5, 6, 6}),
        Arguments.of("b", new long[] {1, 1, 1, 4}),
        Arguments.of("c", new long[] {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6}),
        Arguments.of("d", new long[] {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7}),
        Arguments.of("e", new long[] {1, 1, 1, 4, 4, 4, 4}),
        Arguments.of("f", new long[] {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3}));
  }

  /**
   * Figure 7: a leader of term 8 with log 1,1,1,4,4,5,5,6,6,6 makes each of the paper's follower
   * logs (missing entries, extra uncommitted entries, or both) identical to its own, needing at
   * most two rejected appends thanks to the term hints.
   */
  @ParameterizedTest(name = "follower ({0})")
  @MethodSource("figure7Followers")
  void figure7LeaderRepairsDivergentFollowerLogs(String name, long[] followerTerms) {
    Lockstep ls = new Lockstep();
    ls.add(1, store(THREE, 7, 10, 1, 1, 1, 4, 4, 5, 5, 6, 6, 6), c -> c.withPreVote(false).withCheckQuorum(false));
    ls.add(2, store(THREE, 7, 0, followerTerms), c -> c.withPreVote(false).withCheckQuorum(false));
    ls.add(3, store(THREE, 7, 0), c -> c.withPreVote(false).withCheckQuorum(false)); // votes for anyone up to date

    ls.campaign(1);

    RawNode leader = ls.node(1);
    RawNode follower = ls.node(2);
    assertThat(leader.role()).isEqualTo(Role.LEADER);
    assertThat(leader.term()).isEqualTo(8);
    assertThat(follower.log().lastIndex()).isEqualTo(leader.log().lastIndex()).isEqualTo(11);
    for (long i = 1; i <= 11; i++) {
      assertThat(follower.log().entry(i)).as("entry %d", i).isEqualTo(leader.log().entry(i));
    }
    long rejections = ls.delivered().stream()
        .filter(m -> m instanceof Message.AppendResponse r && r.reject() && r.from() == 2).count();
    assertThat(rejections).as("rejected appends before the logs matched").isLessThanOrEqualTo(2);
    assertThat(follower.log().committed()).isEqualTo(11);
  }

  /** Drops the entries of {@code term} from appends sent by {@code from}: only older entries get through. */
  private static Message stripTerm(Message m, long from, long term) {
    if (m instanceof Message.AppendEntries a && a.from() == from) {
      List<Entry> kept = a.entries().stream().takeWhile(e -> e.term() != term).toList();
      return new Message.AppendEntries(a.from(), a.to(), a.term(), a.prevIndex(), a.prevTerm(), kept, a.commit());
    }
    return m;
  }

  private static void electUntilLeader(Lockstep ls, long id) {
    for (int i = 0; i < 5 && ls.node(id).role() != Role.LEADER; i++) {
      ls.campaign(id);
    }
    assertThat(ls.node(id).role()).as("member %d leads", id).isEqualTo(Role.LEADER);
  }

  /**
   * Figure 8 (a)-(d): an entry of an older term stored on a majority is NOT committed by a later
   * leader counting replicas, because a member with a newer last term can still be elected and
   * overwrite it, which (d) then does. Nobody ever applies the overwritten entry.
   */
  @Test
  void figure8OldTermEntryOnAMajorityIsNotCommittedAndMayBeOverwritten() {
    Lockstep ls = Lockstep.of(5, c -> c.withPreVote(false).withCheckQuorum(false).withFlowControl(1, 256, 0));
    // (a) S1 leads term 1; its first entry commits everywhere; entry 2 reaches only S2
    ls.campaign(1);
    assertThat(ls.node(1).log().committed()).isEqualTo(1);
    ls.dropIf(m -> m instanceof Message.AppendEntries && m.from() == 1 && m.to() != 2);
    long index2 = ls.propose(1, "from S1".getBytes(StandardCharsets.UTF_8));
    assertThat(index2).isEqualTo(2);
    long oldTerm = ls.node(1).term();

    // (b) S1 crashes; S5 wins the next term with S3, S4 and stores its own entry 2, unreplicated
    ls.crash(1);
    ls.heal();
    ls.dropIf(m -> m instanceof Message.AppendEntries && m.from() == 5);
    electUntilLeader(ls, 5);
    assertThat(ls.node(5).log().term(2)).isGreaterThan(oldTerm);

    // (c) S5 crashes; S1 restarts and leads a newer term; entry 2 (old term) reaches S3, so it is
    // on a majority (S1, S2, S3), but S1's own-term entry 3 reaches nobody
    ls.crash(5);
    ls.heal();
    ls.restart(1);
    electUntilLeaderStripping(ls, 1);
    assertThat(ls.node(3).log().term(2)).isEqualTo(oldTerm);
    assertThat(ls.node(1).log().committed()).as("old-term entry on a majority is not committed").isEqualTo(1);

    // (d) S1 crashes; S5 can be elected (S2, S3, S4 have an older last term) and overwrites entry 2
    ls.crash(1);
    ls.heal();
    ls.restart(5);
    electUntilLeader(ls, 5);
    for (long id : new long[] {2, 3, 4}) {
      assertThat(ls.node(id).log().term(2)).as("entry 2 on S%d", id).isEqualTo(ls.node(5).log().term(2));
    }
    for (long id = 2; id <= 5; id++) {
      assertThat(ls.member(id).applied()).noneMatch(e -> e.index() == 2 && e.term() == oldTerm);
    }
  }

  private static void electUntilLeaderStripping(Lockstep ls, long id) {
    ls.rewrite(m -> stripTerm(m, id, ls.node(id).term()));
    electUntilLeader(ls, id);
  }

  /**
   * Figure 8 (e): once the new leader's own-term entry is on a majority, everything before it
   * commits, and the member with the stale entry can no longer win an election.
   */
  @Test
  void figure8CurrentTermEntryOnAMajorityCommitsEverythingBeforeIt() {
    Lockstep ls = Lockstep.of(5, c -> c.withPreVote(false).withCheckQuorum(false));
    ls.campaign(1);
    ls.dropIf(m -> m instanceof Message.AppendEntries && m.from() == 1 && m.to() != 2);
    ls.propose(1, "from S1".getBytes(StandardCharsets.UTF_8));
    long oldTerm = ls.node(1).term();
    ls.crash(1);
    ls.heal();
    ls.dropIf(m -> m instanceof Message.AppendEntries && m.from() == 5);
    electUntilLeader(ls, 5);
    ls.crash(5);
    ls.heal();
    ls.restart(1);
    // this time S1's own-term entry reaches S2 and S3 as well
    ls.dropIf(m -> m.from() == 1 && m.to() == 4);
    electUntilLeader(ls, 1);
    assertThat(ls.node(1).log().committed()).isEqualTo(ls.node(1).log().lastIndex()).isEqualTo(3);
    assertThat(ls.node(1).log().term(2)).isEqualTo(oldTerm);

    ls.crash(1);
    ls.heal();
    ls.restart(5);
    for (int i = 0; i < 5; i++) {
      ls.campaign(5);
    }
    assertThat(ls.node(5).role()).isNotEqualTo(Role.LEADER);
    for (long id : new long[] {2, 3}) {
      assertThat(ls.node(id).log().term(2)).isEqualTo(oldTerm);
    }
  }
}
