package dev.flotilla.raft.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flotilla.raft.sim.Lockstep;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Pre-vote, check-quorum, leadership transfer, snapshot catch-up, learners, ReadIndex, removal. */
class RaftScenariosTest {

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static Lockstep elected(int n, java.util.function.UnaryOperator<RaftConfig> tune) {
    Lockstep ls = Lockstep.bootstrapped(n, tune);
    ls.campaign(1);
    assertThat(ls.node(1).role()).isEqualTo(Role.LEADER);
    return ls;
  }

  @Test
  void preVoteKeepsARejoiningPartitionedMemberFromDisruptingTheLeader() {
    Lockstep ls = elected(3, c -> c.withPreVote(true).withCheckQuorum(false));
    long term = ls.node(1).term();
    ls.isolate(3);
    ls.tick(3, 200); // twenty election timeouts alone: pre-votes fail, the term stays
    assertThat(ls.node(3).term()).isEqualTo(term);
    assertThat(ls.node(3).role()).isEqualTo(Role.PRE_CANDIDATE);
    ls.heal();
    ls.tickAll(5);
    assertThat(ls.node(1).role()).isEqualTo(Role.LEADER);
    assertThat(ls.node(1).term()).isEqualTo(term);
    assertThat(ls.node(3).role()).isEqualTo(Role.FOLLOWER);
    assertThat(ls.node(3).lead()).isEqualTo(1);
  }

  @Test
  void withoutPreVoteARejoiningMemberDisruptsTheLeader() {
    // the contrast that shows what pre-vote buys
    Lockstep ls = elected(3, c -> c.withPreVote(false).withCheckQuorum(false));
    long term = ls.node(1).term();
    ls.isolate(3);
    ls.tick(3, 200);
    assertThat(ls.node(3).term()).isGreaterThan(term + 5);
    ls.heal();
    ls.tickAll(30);
    assertThat(ls.node(1).term()).isGreaterThan(term);
  }

  @Test
  void checkQuorumMakesALeaderThatLostItsQuorumStepDown() {
    Lockstep ls = elected(3, c -> c.withCheckQuorum(true));
    ls.tickAll(3);
    ls.isolate(1);
    // quorum activity is judged once per election timeout on what was heard since the last
    // judgement, so the leader steps down within two timeouts of losing its quorum
    ls.tick(1, 10);
    ls.tick(1, 10);
    assertThat(ls.node(1).role()).isEqualTo(Role.FOLLOWER);
    // the majority side elects a new leader meanwhile
    ls.tickAll(40);
    long newLeader = ls.node(2).role() == Role.LEADER ? 2 : 3;
    assertThat(ls.node(newLeader).role()).isEqualTo(Role.LEADER);
    assertThatThrownBy(() -> ls.node(1).propose(bytes("x"))).isInstanceOf(ProposalDroppedException.class);
  }

  @Test
  void leaderTransferBringsALaggingTargetUpToDateThenHandsOver() {
    Lockstep ls = elected(3, c -> c);
    ls.isolate(3);
    for (int i = 0; i < 5; i++) {
      ls.propose(1, bytes("w" + i));
    }
    long last = ls.node(1).log().lastIndex();
    assertThat(ls.node(3).log().lastIndex()).isLessThan(last);
    ls.heal();
    long term = ls.node(1).term();
    ls.node(1).transferLeader(3);
    ls.flush();
    assertThat(ls.node(3).role()).isEqualTo(Role.LEADER);
    assertThat(ls.node(3).term()).isEqualTo(term + 1);
    assertThat(ls.node(1).role()).isEqualTo(Role.FOLLOWER);
    assertThat(ls.node(3).log().entry(last)).isEqualTo(ls.node(1).log().entry(last));
    assertThat(ls.count(Message.TimeoutNow.class)).isEqualTo(1);
  }

  @Test
  void proposalsAreRefusedDuringATransferThatIsAbandonedAfterAnElectionTimeout() {
    Lockstep ls = elected(3, c -> c);
    ls.isolate(3);
    ls.propose(1, bytes("behind"));
    ls.node(1).transferLeader(3); // 3 lags and cannot be reached: the transfer hangs
    ls.flush();
    assertThat(ls.node(1).status().leadTransferee()).isEqualTo(3);
    assertThatThrownBy(() -> ls.node(1).propose(bytes("x")))
        .isInstanceOf(ProposalDroppedException.class).hasMessageContaining("transferring leadership to 3");
    ls.tick(1, 10);
    assertThat(ls.node(1).status().leadTransferee()).isZero();
    assertThat(ls.propose(1, bytes("y"))).isPositive();
  }

  @Test
  void aFollowerThatFellBehindACompactedLogCatchesUpFromASnapshot() {
    Lockstep ls = elected(3, c -> c);
    ls.isolate(3);
    for (int i = 0; i < 20; i++) {
      ls.propose(1, bytes("v" + i));
    }
    RawNode leader = ls.node(1);
    long applied = leader.log().applied();
    assertThat(applied).isEqualTo(leader.log().committed());
    MemLogStore leaderStore = ls.member(1).store();
    leaderStore.createSnapshot(applied, leader.confState(), bytes("state@" + applied));
    leaderStore.compact(applied);
    assertThat(leader.log().firstIndex()).isEqualTo(applied + 1);

    ls.heal();
    ls.tickAll(3); // a heartbeat response shows 3 is behind; its entries are gone, so a snapshot goes
    assertThat(ls.count(Message.InstallSnapshot.class)).isEqualTo(1);
    MemLogStore followerStore = ls.member(3).store();
    assertThat(followerStore.snapshot().index()).isEqualTo(applied);
    assertThat(new String(followerStore.snapshot().data(), StandardCharsets.UTF_8)).isEqualTo("state@" + applied);
    assertThat(ls.node(3).log().committed()).isEqualTo(leader.log().committed());
    assertThat(ls.node(3).log().applied()).isEqualTo(leader.log().committed());
    ls.propose(1, bytes("after"));
    assertThat(ls.node(3).log().entry(leader.log().lastIndex())).isEqualTo(leader.log().entry(leader.log().lastIndex()));
  }

  @Test
  void aLearnerCatchesUpWithoutVotingAndIsThenPromoted() {
    Lockstep ls = elected(3, c -> c);
    for (int i = 0; i < 10; i++) {
      ls.propose(1, bytes("v" + i));
    }
    ls.add(4, new MemLogStore(), c -> c);
    ls.node(1).proposeConfChange(ConfChange.addLearner(4));
    ls.flush();
    ls.tickAll(3);
    RawNode leader = ls.node(1);
    assertThat(leader.confState().learners()).containsExactly(4L);
    assertThat(leader.status().progress().get(4L).match()).isEqualTo(leader.log().lastIndex());
    assertThat(ls.node(4).confState().learners()).containsExactly(4L);
    assertThat(ls.node(4).confState().voters()).containsExactly(1L, 2L, 3L);

    // a learner never campaigns and does not count for commits
    ls.tick(4, 100);
    assertThat(ls.node(4).role()).isEqualTo(Role.FOLLOWER);
    ls.isolate(2);
    ls.isolate(3);
    long index = ls.propose(1, bytes("needs a voter"));
    assertThat(ls.node(4).log().lastIndex()).isEqualTo(index);
    assertThat(leader.log().committed()).isLessThan(index);
    ls.heal();
    ls.tickAll(2);
    assertThat(leader.log().committed()).isGreaterThanOrEqualTo(index);

    ls.node(1).proposeConfChange(ConfChange.addVoter(4));
    ls.flush();
    ls.tickAll(2);
    for (long id = 1; id <= 4; id++) {
      assertThat(ls.node(id).confState().voters()).as("member %d", id).containsExactly(1L, 2L, 3L, 4L);
      assertThat(ls.node(id).confState().learners()).isEmpty();
    }
  }

  @Test
  void membershipChangesGoOneAtATime() {
    Lockstep ls = elected(3, c -> c);
    ls.isolate(2);
    ls.isolate(3);
    ls.add(4, new MemLogStore(), c -> c);
    ls.node(1).proposeConfChange(ConfChange.addLearner(4));
    assertThatThrownBy(() -> ls.node(1).proposeConfChange(ConfChange.addLearner(5)))
        .isInstanceOf(ProposalDroppedException.class).hasMessageContaining("not committed yet");
    assertThatThrownBy(() -> ls.node(1).proposeConfChange(ConfChange.addVoter(1)))
        .isInstanceOf(ProposalDroppedException.class);
    ls.heal();
    ls.tickAll(2);
    assertThatThrownBy(() -> ls.node(1).proposeConfChange(ConfChange.addVoter(1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("already a voter");
  }

  @Test
  void aRemovedLeaderStepsDownOnceItsRemovalCommitsAndTheRestElectANewOne() {
    Lockstep ls = elected(3, c -> c);
    ls.node(1).proposeConfChange(ConfChange.remove(1));
    ls.flush();
    assertThat(ls.node(1).role()).isEqualTo(Role.FOLLOWER);
    assertThat(ls.node(2).confState().voters()).containsExactly(2L, 3L);
    ls.crash(1);
    ls.tickAll(40);
    assertThat(ls.node(2).role() == Role.LEADER || ls.node(3).role() == Role.LEADER).isTrue();
  }

  @Test
  void readIndexAnswersAfterAHeartbeatQuorumOnLeaderAndFollower() {
    Lockstep ls = elected(3, c -> c);
    ls.propose(1, bytes("w"));
    long commit = ls.node(1).log().committed();
    long heartbeats = ls.count(Message.Heartbeat.class);
    ls.node(1).readIndex(bytes("r1"));
    ls.flush();
    assertThat(ls.member(1).readStates()).singleElement()
        .satisfies(rs -> assertThat(rs.index()).isEqualTo(commit))
        .satisfies(rs -> assertThat(rs.context()).isEqualTo(bytes("r1")));
    assertThat(ls.count(Message.Heartbeat.class)).isGreaterThan(heartbeats);

    ls.node(2).readIndex(bytes("r2"));
    ls.flush();
    assertThat(ls.member(2).readStates()).singleElement().satisfies(rs -> assertThat(rs.index()).isEqualTo(commit));
  }

  /**
   * An ack is for the heartbeat round it answers: the same context asked again after it was
   * answered (a follower's retry that crossed the answer) must not let late acks of its first round
   * confirm the reads queued meanwhile. A leader paused and deposed (chaos: SIGSTOP) found such acks
   * in its inbox on waking and answered a new quorum read from its stale state.
   */
  @Test
  void lateAcksOfAnEarlierRoundConfirmNothingQueuedSince() {
    Lockstep ls = elected(3, c -> c);
    ls.propose(1, bytes("w"));
    ls.node(1).readIndex(bytes("x"));
    ls.flush();
    assertThat(ls.member(1).readStates()).singleElement().satisfies(rs -> assertThat(rs.context()).isEqualTo(bytes("x")));
    List<Message> oldAcks = ls.delivered().stream()
        .filter(m -> m instanceof Message.HeartbeatResponse h && h.to() == 1 && h.context() != null)
        .toList();
    assertThat(oldAcks).isNotEmpty();

    ls.isolate(1);
    ls.node(1).readIndex(bytes("y")); // asked now: needs a quorum that answers a heartbeat sent from now on
    ls.node(1).readIndex(bytes("x")); // x asked again, queued after y
    for (Message ack : oldAcks) {
      ls.node(1).step(ack);
    }
    ls.flush();
    assertThat(ls.member(1).readStates()).extracting(rs -> new String(rs.context(), StandardCharsets.UTF_8))
        .containsExactly("x");
  }

  @Test
  void aPartitionedLeaderCannotServeReadIndex() {
    Lockstep ls = elected(3, c -> c);
    ls.isolate(1);
    ls.node(1).readIndex(bytes("r"));
    ls.flush();
    ls.tick(1, 5);
    assertThat(ls.member(1).readStates()).isEmpty();
  }

  @Test
  void leaseBasedReadsAnswerWithoutARoundTrip() {
    Lockstep ls = elected(3, c -> c.withReadOnlyOption(ReadOnlyOption.LEASE_BASED));
    ls.propose(1, bytes("w"));
    long heartbeats = ls.count(Message.Heartbeat.class);
    ls.node(1).readIndex(bytes("r"));
    ls.flush();
    assertThat(ls.member(1).readStates()).singleElement()
        .satisfies(rs -> assertThat(rs.index()).isEqualTo(ls.node(1).log().committed()));
    assertThat(ls.count(Message.Heartbeat.class)).isEqualTo(heartbeats);
  }

  @Test
  void illegalRoleTransitionsThrow() {
    assertThat(RoleTransitions.isLegal(Role.LEADER, Role.CANDIDATE)).isFalse();
    assertThat(RoleTransitions.isLegal(Role.FOLLOWER, Role.LEADER)).isFalse();
    assertThat(RoleTransitions.isLegal(Role.PRE_CANDIDATE, Role.LEADER)).isFalse();
    assertThat(RoleTransitions.isLegal(Role.CANDIDATE, Role.LEADER)).isTrue();
    assertThatThrownBy(() -> RoleTransitions.check(7, Role.LEADER, Role.PRE_CANDIDATE))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("member 7: illegal role transition LEADER -> PRE_CANDIDATE");
  }

  @Test
  void aFollowerForwardsProposalsToItsLeaderWhichAppendsThemInOneBatch() {
    Lockstep ls = elected(3, c -> c);
    long before = ls.node(1).log().lastIndex();
    assertThat(ls.node(2).proposeOrForward(java.util.List.of(bytes("a"), bytes("b")))).isZero(); // forwarded
    ls.flush();
    assertThat(ls.count(Message.Propose.class)).isEqualTo(1);
    assertThat(ls.node(1).log().lastIndex()).isEqualTo(before + 2);
    for (long id = 1; id <= 3; id++) {
      assertThat(ls.member(id).applied().stream().filter(e -> e.data().length == 1)
          .map(e -> new String(e.data(), StandardCharsets.UTF_8))).containsExactly("a", "b");
    }
  }

  private static boolean emptyAppend(Message m) {
    return m instanceof Message.AppendEntries a && a.entries().isEmpty();
  }

  @Test
  void aLeaderThatDefersCommitNoticesSendsNoAppendForACommitAloneUntilItIsAskedTo() {
    Lockstep ls = elected(3, c -> c.withDeferCommitNotice(true));
    ls.delivered().clear();
    long index = ls.propose(1, bytes("x")); // appended, sent, acknowledged: committed on the leader
    assertThat(ls.node(1).log().committed()).isEqualTo(index);
    assertThat(ls.delivered()).noneMatch(RaftScenariosTest::emptyAppend);
    for (long id = 2; id <= 3; id++) {
      assertThat(ls.node(id).log().committed()).isLessThan(index); // they hold it, not knowing it committed
    }
    assertThat(ls.node(1).commitUnannounced()).isTrue();

    ls.node(1).announceCommit();
    ls.flush();
    assertThat(ls.node(1).commitUnannounced()).isFalse();
    assertThat(ls.count(Message.AppendEntries.class)).isEqualTo(4); // the entry's two, then the commit's two
    for (long id = 2; id <= 3; id++) {
      assertThat(ls.node(id).log().committed()).isEqualTo(index);
      assertThat(ls.member(id).applied()).anyMatch(e -> new String(e.data() == null ? new byte[0] : e.data(),
          StandardCharsets.UTF_8).equals("x"));
    }

    // under load the next entry's append carries the previous commit: still no append for a commit alone
    ls.delivered().clear();
    long next = ls.propose(1, bytes("y"));
    assertThat(ls.delivered()).noneMatch(RaftScenariosTest::emptyAppend);
    assertThat(ls.node(2).log().committed()).isEqualTo(next - 1);
  }

  @Test
  void withoutDeferredNoticesEachCommitIsSentAtOnceInAnEmptyAppend() {
    // etcd's way, the default: the contrast to the test above
    Lockstep ls = elected(3, c -> c);
    ls.delivered().clear();
    long index = ls.propose(1, bytes("x"));
    assertThat(ls.delivered()).filteredOn(RaftScenariosTest::emptyAppend).hasSize(2);
    for (long id = 2; id <= 3; id++) {
      assertThat(ls.node(id).log().committed()).isEqualTo(index);
    }
    assertThat(ls.node(1).commitUnannounced()).isFalse();
  }

  @Test
  void aFollowerWhoseForwardedProposalCommitsIsToldAtOnceTheOthersAtTheNextHeartbeat() {
    Lockstep ls = elected(3, c -> c.withDeferCommitNotice(true));
    ls.node(2).proposeOrForward(List.of(bytes("f")));
    ls.flush();
    long index = ls.node(1).log().lastIndex();
    assertThat(ls.node(1).log().committed()).isEqualTo(index);
    assertThat(ls.node(2).log().committed()).isEqualTo(index); // its client waits for its own apply
    assertThat(ls.node(3).log().committed()).isLessThan(index);
    ls.tickAll(1); // a heartbeat carries the commit of what a follower holds
    assertThat(ls.node(3).log().committed()).isEqualTo(index);
  }

  @Test
  void aForwardedProposalWithoutALeaderIsRefusedAndAStaleOneIsDropped() {
    Lockstep ls = Lockstep.bootstrapped(3, c -> c);
    assertThatThrownBy(() -> ls.node(2).proposeOrForward(java.util.List.of(bytes("x"))))
        .isInstanceOf(ProposalDroppedException.class).hasMessageContaining("knows no leader");
    ls.campaign(1);
    long last = ls.node(1).log().lastIndex();
    // a proposal from an older term (its sender had not heard of this leader) is dropped
    ls.node(1).step(new Message.Propose(2, 1, ls.node(1).term() - 1, java.util.List.of(bytes("old"))));
    ls.flush();
    assertThat(ls.node(1).log().lastIndex()).isEqualTo(last);
  }

  @Test
  void memberIdsAreUnsigned64BitNumbers() {
    // etcd's member IDs use all 64 bits: a Java long shows half of them as negative
    long big = 0x8e9e05c52164694dL;
    ConfChange cc = ConfChange.addVoter(big);
    assertThat(ConfChange.decode(cc.encode(bytes("ctx")))).isEqualTo(cc);
    assertThat(ConfChange.context(cc.encode(bytes("ctx")))).isEqualTo(bytes("ctx"));
    assertThat(ConfState.ofVoters(big, 1).isMember(big)).isTrue();
    assertThatThrownBy(() -> ConfChange.addVoter(0)).isInstanceOf(IllegalArgumentException.class);
    assertThat(new HardState(3, big, 7).vote()).isEqualTo(big);
  }
}
